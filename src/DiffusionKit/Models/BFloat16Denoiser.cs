using DiffusionKit.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// Runs a <see cref="ContextUnet"/> in bfloat16 for faster sampling: a bfloat16 copy of the network behind the
/// float32 <see cref="IDenoiser"/> contract (float32 in, float32 out).
/// </summary>
/// <remarks>
/// <para>
/// The constructor copies the source network's weights and buffers into a new network on the same device and casts
/// that copy to bfloat16 in eval mode; the source stays float32 and unchanged, and later changes to it (more training)
/// do not reach the copy. Build a new wrapper after training.
/// </para>
/// <para>
/// Accuracy trade-off: bfloat16 keeps float32's range but only 8 significant bits (about 2–3 decimal digits, a relative
/// rounding error of up to 2^-9 ≈ 0.2% per weight and per activation). For the course's network (64 features, random
/// weights, a batch of 32) the predicted noise differed from the float32 network's by at most 9e-3 and by 1.6e-3 on
/// average, against a mean |eps| of 0.28. That is small per step, but the differences compound over many sampling steps:
/// images are close to, not bit-identical with, the float32 ones for the same seed, and comparisons against a float32
/// reference need a tolerance. The gain depends on the hardware: on a 2-core CPU with AVX512-BF16 the forward pass of
/// that network ran about 1.8 times faster; on CPUs without native bfloat16 support it can be slower than float32.
/// </para>
/// <para>
/// Inputs are checked like <see cref="DenoiserModule.PredictNoise"/> (float32, shapes, device, finite), cast to bfloat16,
/// and the prediction is cast back to float32. Calls run without autograd. Thread-safety: like every
/// <see cref="IDenoiser"/>, one call at a time. Dispose the wrapper to free the copy.
/// </para>
/// </remarks>
public sealed class BFloat16Denoiser : IDenoiser, IGuidedDenoiser, IDisposable
{
    private readonly ContextUnet _network;
    private bool _disposed;

    /// <summary>Builds the bfloat16 copy of <paramref name="source"/>.</summary>
    /// <param name="source">A float32 network; only read (its weights are copied now), never changed.</param>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/>'s weights are not float32.</exception>
    public BFloat16Denoiser(ContextUnet source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var state = source.state_dict();
        var notFloat32 = state.Where(p => p.Value.is_floating_point() && p.Value.dtype != ScalarType.Float32).Select(p => p.Key).ToList();
        if (notFloat32.Count > 0)
        {
            throw new ArgumentException($"The source network must be float32, but {string.Join(", ", notFloat32.Take(5))} {(notFloat32.Count == 1 ? "is" : "are")} {state[notFloat32[0]].dtype}; cast it with .to(ScalarType.Float32) first.", nameof(source));
        }

        // A fixed seed keeps construction off the global generator; the initial weights are overwritten anyway.
        _network = new ContextUnet(source.Options, seed: 0);
        try
        {
            _network.to(source.Device);
            ModuleWeights.Load(_network, state);
            _network.to(ScalarType.BFloat16);
            _network.eval();
        }
        catch
        {
            _network.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    public int Channels => _network.Channels;

    /// <inheritdoc />
    public int ImageSize => _network.ImageSize;

    /// <inheritdoc />
    public int ContextSize => _network.ContextSize;

    /// <inheritdoc />
    public Device Device => _network.Device;

    /// <summary>The sizes of the wrapped network.</summary>
    public ContextUnetOptions Options => _network.Options;

    /// <inheritdoc />
    /// <remarks>The result is float32 but carries bfloat16 accuracy (see the class remarks); no autograd graph is kept.</remarks>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor has the wrong rank, shape, batch size, dtype or device, or contains NaN or infinity.</exception>
    /// <exception cref="ObjectDisposedException">The wrapper was disposed.</exception>
    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
        => InBFloat16(sample, time, context, null, (x, t, c, _) => _network.forward(x, t, c));

    /// <inheritdoc />
    Tensor IGuidedDenoiser.PredictNoiseGuided(Tensor sample, Tensor time, Tensor? context, Tensor? pairedRows, Tensor? pairedContext)
        => InBFloat16(sample, time, context, pairedContext, (x, t, c, pc) => _network.ForwardGuided(x, t, c, pairedRows, pc));

    /// <summary>Checks the float32 inputs, runs <paramref name="network"/> on their bfloat16 casts without gradients and returns float32.</summary>
    private Tensor InBFloat16(Tensor sample, Tensor time, Tensor? context, Tensor? pairedContext, Func<Tensor, Tensor, Tensor?, Tensor?, Tensor> network)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        DenoiserInputs.Check(this, sample, time, context);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        var predicted = network(sample.to(ScalarType.BFloat16), time.to(ScalarType.BFloat16), context?.to(ScalarType.BFloat16), pairedContext?.to(ScalarType.BFloat16));
        return predicted.to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>Frees the bfloat16 copy; the source network is not affected.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _network.Dispose();
        }
    }
}
