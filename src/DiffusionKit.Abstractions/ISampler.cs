using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>The reverse-diffusion loop: seeded noise, denoiser and scheduler in, images out.</summary>
/// <remarks>
/// <para>The sampler owns the loop; the scheduler owns the update rule; the denoiser owns the weights.</para>
/// <para>Thread-safety: a sampler holds no loop state and may run several loops concurrently if the denoiser allows it.
/// Ownership: the returned tensor is new and owned by the caller; the context is not disposed.</para>
/// </remarks>
public interface ISampler
{
    /// <summary>Runs the reverse process and returns the generated images.</summary>
    /// <param name="denoiser">The trained network.</param>
    /// <param name="scheduler">The noise schedule and update rule; its <see cref="INoiseScheduler.Timesteps"/> drive the loop.</param>
    /// <param name="context">Context vectors [B, ContextSize], one per image; null samples B = <see cref="SamplingOptions.Count"/> unconditional images.</param>
    /// <param name="options">Count, guidance and the random source.</param>
    /// <param name="progress">Receives one report per denoising step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>Images in [0, 1], float32 [B, C, H, W] on the CPU.</returns>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    Tensor Sample(
        IDenoiser denoiser,
        INoiseScheduler scheduler,
        Tensor? context,
        SamplingOptions options,
        IProgress<SamplingProgress>? progress = null,
        CancellationToken cancellationToken = default);
}
