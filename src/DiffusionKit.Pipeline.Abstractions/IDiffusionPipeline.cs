namespace DiffusionKit;

/// <summary>
/// Generates images for text prompts. The consumer's view of DiffusionKit: no tensors, only prompts in and RGB pixels
/// or PNG bytes out, so hosts can depend on (and mock) this interface without loading libtorch.
/// </summary>
/// <remarks>
/// <para>
/// Thread-safety: implementations must accept concurrent calls. DiffusionKit's pipeline queues them (bounded) and merges
/// concurrent requests into shared batches; a request over a limit fails at once with
/// <see cref="GenerationLimitExceededException"/>, and one that finds the queue full with <see cref="PipelineBusyException"/>.
/// </para>
/// <para>
/// Lifetime: implementations that hold native resources also implement <see cref="IDisposable"/>; dispose them once
/// no call is running (a dependency-injection container does this at shutdown).
/// </para>
/// </remarks>
public interface IDiffusionPipeline
{
    /// <summary>Generates the images of <paramref name="request"/>.</summary>
    /// <param name="request">Prompts, counts and optional overrides; see <see cref="GenerationRequest"/> for how seeds are assigned.</param>
    /// <param name="cancellationToken">Cancels the call, checked before every denoising step.</param>
    /// <returns>All images, grouped by prompt in request order.</returns>
    /// <exception cref="ArgumentException">When the request is invalid; <see cref="ArgumentException.ParamName"/> names the property.</exception>
    /// <exception cref="GenerationLimitExceededException">When the request exceeds a limit of the pipeline (an <see cref="ArgumentException"/>).</exception>
    /// <exception cref="PipelineBusyException">When the pipeline's queue is full.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default);

    /// <summary>Generates the images of <paramref name="request"/>, reporting every denoising step as it finishes.</summary>
    /// <param name="request">As for <see cref="GenerateAsync"/>.</param>
    /// <param name="cancellationToken">Cancels the generation; stopping the enumeration early cancels it too.</param>
    /// <returns>One update per step of every prompt; a prompt's last update carries its images.</returns>
    /// <exception cref="ArgumentException">When the request is invalid (thrown on enumeration).</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, CancellationToken cancellationToken = default);
}
