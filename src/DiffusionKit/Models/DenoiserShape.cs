namespace DiffusionKit.Models;

/// <summary>The sizes a denoiser's <c>config.json</c> <c>model</c> section declares, read before anything is allocated.</summary>
/// <param name="Channels">Image channels (3 for RGB).</param>
/// <param name="ImageSize">Image height and width in pixels.</param>
/// <param name="ContextSize">Length of the context vector the text encoder must produce.</param>
public sealed record DenoiserShape(int Channels, int ImageSize, int ContextSize);
