namespace DiffusionKit;

/// <summary>One generated image as plain RGB pixels and as a PNG file.</summary>
/// <param name="Prompt">The prompt it was generated for.</param>
/// <param name="PromptIndex">Index of <paramref name="Prompt"/> in <see cref="GenerationRequest.Prompts"/>.</param>
/// <param name="ImageIndex">Index among the images of this prompt, 0..ImagesPerPrompt-1.</param>
/// <param name="Seed">This image's own seed (request seed + its index k = PromptIndex·ImagesPerPrompt + ImageIndex); sampling its prompt alone with this seed reproduces it.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Pixels">RGB bytes, row-major, <c>Width·Height·3</c> long (grey, R = G = B, from a one-channel model).</param>
/// <param name="Png">The same image encoded as a PNG file (starts with the PNG signature): 8-bit RGB, or 8-bit grayscale (colour type 0) from a one-channel (grayscale) model.</param>
public sealed record GeneratedImage(
    string Prompt,
    int PromptIndex,
    int ImageIndex,
    long Seed,
    int Width,
    int Height,
    ReadOnlyMemory<byte> Pixels,
    ReadOnlyMemory<byte> Png);
