using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>The inputs of one batched sampling loop: every image's context row, guidance weight and noise.</summary>
/// <param name="Denoiser">The network.</param>
/// <param name="Scheduler">A scheduler whose timesteps drive the loop.</param>
/// <param name="Count">Images in the batch.</param>
/// <param name="Context">[Count, ContextSize] conditioning, or null for unconditional images (guidance is then off).</param>
/// <param name="Unconditional">[1, ContextSize] or [Count, ContextSize] context of the unconditional pass; null means zeros.</param>
/// <param name="Guidance">Guidance weight w of every image (length Count), each finite and at least 0.</param>
/// <param name="Noise">Where the initial and fresh noise come from.</param>
internal sealed record SamplingBatch(
    IDenoiser Denoiser,
    INoiseScheduler Scheduler,
    int Count,
    Tensor? Context,
    Tensor? Unconditional,
    double[] Guidance,
    INoiseSource Noise);

/// <summary>The result of a batched loop: images in [0, 1] (float32, CPU) for the rows that were not dropped.</summary>
/// <param name="Images">[Rows.Count, C, H, W]; null when every row was dropped.</param>
/// <param name="Rows">The original rows of <paramref name="Images"/>, ascending.</param>
internal sealed record SamplingOutcome(Tensor? Images, IReadOnlyList<int> Rows);
