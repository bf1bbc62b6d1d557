using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// A network that predicts the noise in a noisy image, given the (normalised) time and a context vector.
/// </summary>
/// <remarks>
/// <para>The denoiser never sees the schedule: the caller passes time as <c>t / T</c> in [0, 1].</para>
/// <para>
/// Thread-safety: a denoiser wraps one set of weights and is not safe to call from several threads at once,
/// nor while it is being trained. Ownership: the returned tensor is new and owned by the caller; inputs are not
/// disposed or modified.
/// </para>
/// </remarks>
public interface IDenoiser
{
    /// <summary>Image channels the network expects (3 for RGB).</summary>
    int Channels { get; }

    /// <summary>Image height and width in pixels (square images).</summary>
    int ImageSize { get; }

    /// <summary>Length of the context vector (the text encoder's <see cref="ITextEncoder.ContextSize"/>).</summary>
    int ContextSize { get; }

    /// <summary>The device the weights live on.</summary>
    Device Device { get; }

    /// <summary>Predicts the noise eps in <paramref name="sample"/>.</summary>
    /// <param name="sample">Noisy images x_t, float32 [B, Channels, ImageSize, ImageSize].</param>
    /// <param name="time">Normalised time <c>t / T</c>, float32 [B], values in [0, 1].</param>
    /// <param name="context">Context vectors, float32 [B, ContextSize]; null means the unconditional (zero) context.</param>
    /// <returns>The predicted noise, same shape as <paramref name="sample"/>.</returns>
    /// <exception cref="ArgumentException">When a shape does not match, naming the parameter.</exception>
    Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context);
}
