using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// A denoiser that predicts classifier-free guidance's conditional and unconditional noise for the same noisy images
/// in one call, computing once what does not depend on the context.
/// </summary>
/// <remarks>
/// The context U-Net's down path (the convolutions from the image to the bottleneck, and the bottleneck's
/// up-sampling) sees neither the time nor the context, so a guided image's conditional and unconditional rows share it:
/// run once per image, then the up path runs for both contexts (the output convolution's share that reads the first
/// block is also run once per image). With guidance this saves about 30% of the sampling FLOPs, and the predictions equal
/// those of two separate calls up to float rounding (the tests allow 1e-5).
/// Inference only: callers hold <c>no_grad</c>.
/// </remarks>
internal interface IGuidedDenoiser : IDenoiser
{
    /// <summary>
    /// Predicts the noise of every row of <paramref name="sample"/> with <paramref name="context"/>, followed by the
    /// noise of the rows listed in <paramref name="pairedRows"/> (all rows when null) with
    /// <paramref name="pairedContext"/>.
    /// </summary>
    /// <param name="sample">Noisy images, float32 [B, C, H, W].</param>
    /// <param name="time">Normalised time per row, float32 [B].</param>
    /// <param name="context">Context per row, float32 [B, ContextSize].</param>
    /// <param name="pairedRows">Row indices (int64 [P]) predicted a second time, or null for all B rows.</param>
    /// <param name="pairedContext">The second context of each paired row, float32 [P, ContextSize]; null for none.</param>
    /// <returns>float32 [B + P, C, H, W]: the B conditional predictions, then the P paired ones.</returns>
    Tensor PredictNoiseGuided(Tensor sample, Tensor time, Tensor? context, Tensor? pairedRows, Tensor? pairedContext);
}
