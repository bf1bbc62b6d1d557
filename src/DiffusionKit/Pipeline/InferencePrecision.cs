using DiffusionKit.Models;
using DiffusionKit.Native;
using DiffusionKit.Training;

namespace DiffusionKit.Pipeline;

/// <summary>The one place where a pipeline turns a <see cref="Precision"/> into the denoiser it samples with.</summary>
internal static class InferencePrecision
{
    /// <summary>
    /// Auto's decisions in this process, per network shape, device and batch: measured once, so every pipeline of one
    /// shape in a process samples in the same precision (and the same seed gives the same pixels), and later builds
    /// skip the probe.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int Features, int ImageSize, int InChannels, int ContextSize, string Device, int Batch), PrecisionMeasurement> Measured = new();

    /// <summary>
    /// The denoiser for <paramref name="precision"/>: the model itself (float32) or a bfloat16 copy, which the caller
    /// must dispose. <see cref="Precision.Auto"/> first times both on this machine (<see cref="PrecisionProbe.MeasureSampling"/>)
    /// at the pipeline's largest network batch and uses the faster. The float32 kernel check runs for any network;
    /// bfloat16 is the context U-Net's: any other <see cref="DenoiserModule"/> samples in float32 (Auto resolves to it
    /// without measuring; the builder refuses <see cref="Precision.BFloat16"/> for it).
    /// </summary>
    /// <param name="model">The float32 network, in eval mode.</param>
    /// <param name="precision">The arithmetic to sample in.</param>
    /// <param name="networkBatch">Rows of the largest network call (a full batch with guidance), for Auto's measurement.</param>
    /// <returns>The denoiser, the precision it runs in, the measurement (Auto only), and the object to dispose with the pipeline (null for the model itself).</returns>
    /// <exception cref="ArgumentOutOfRangeException">When the precision is not a defined value, or is bfloat16 for a network other than the context U-Net.</exception>
    /// <param name="warn">Receives the kernel check's warnings (one line each).</param>
    public static (IDenoiser Denoiser, Precision Resolved, PrecisionMeasurement? Measurement, IDisposable? Owned) Create(DenoiserModule model, Precision precision, int networkBatch, Action<string> warn)
    {
        if (model is not ContextUnet && precision == Precision.BFloat16)
        {
            throw new ArgumentOutOfRangeException(nameof(precision), precision, $"UsePrecision: bfloat16 sampling is available for the ContextUnet only, but this pipeline's model is a {model.DenoiserType.Name}; use Precision.Float32 or Precision.Auto.");
        }

        // The numerics check of the forward pass in each precision this pipeline may use (cached per process and
        // architecture), for any network; a precision whose kernels fail every route is not used.
        PrecisionMeasurement? measurement = null;
        if (KernelCheck.Ensure(model, TorchSharp.torch.ScalarType.Float32, backward: false).Warning is { } float32Warning)
        {
            warn(float32Warning);
        }

        if (model is not ContextUnet network)
        {
            return (model, Precision.Float32, null, null);
        }

        if (precision != Precision.Float32)
        {
            var bf16 = KernelCheck.Ensure(network, TorchSharp.torch.ScalarType.BFloat16, backward: false);
            if (bf16.Warning is { } bf16Warning)
            {
                warn(bf16Warning);
            }

            if (!bf16.Passed)
            {
                precision = Precision.Float32;
            }
        }

        if (precision == Precision.Auto)
        {
            var o = network.Options;
            var key = (o.Features, o.ImageSize, o.InChannels, o.ContextSize, model.Device.ToString(), networkBatch);
            measurement = Measured.GetOrAdd(key, _ => PrecisionProbe.MeasureSampling(network, networkBatch));
            precision = measurement.Chosen;
        }

        switch (precision)
        {
            case Precision.Float32:
                return (model, precision, measurement, null);
            case Precision.BFloat16:
                var bf16 = new BFloat16Denoiser(network);
                return (bf16, precision, measurement, bf16);
            default:
                throw new ArgumentOutOfRangeException(nameof(precision), precision, $"precision must be one of {string.Join(", ", Enum.GetNames<Precision>())}.");
        }
    }
}
