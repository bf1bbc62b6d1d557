using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// An exponential moving average of a module's parameters and buffers: <c>shadow = d·shadow + (1 - d)·param</c>, with the
/// usual warm-up <c>d = min(decay, (1 + n) / (10 + n))</c> after n updates so early weights do not dominate.
/// </summary>
/// <remarks>Shadows of float32, float16 and bfloat16 tensors are kept in float32 (float64 ones in float64).</remarks>
internal sealed class ExponentialMovingAverage : IDisposable
{
    private readonly double _decay;
    private readonly List<(Tensor Live, Tensor Shadow)> _pairs = new();
    private long _updates;

    public ExponentialMovingAverage(nn.Module module, double decay)
        : this(module.state_dict().Values, decay)
    {
    }

    /// <summary>Averages the given live tensors (for example a model's state_dict plus a jointly trained encoder's parameters).</summary>
    public ExponentialMovingAverage(IEnumerable<Tensor> tensors, double decay)
    {
        _decay = decay;
        using var noGrad = no_grad();
        foreach (var tensor in tensors)
        {
            // Floating-point shadows are float32 even for bfloat16 live tensors, so a decay such as 0.999 is not rounded away.
            var shadow = tensor.is_floating_point() && tensor.dtype != ScalarType.Float64
                ? tensor.detach().to(ScalarType.Float32, copy: true)
                : tensor.detach().clone();
            _pairs.Add((tensor, shadow.DetachFromDisposeScope()));
        }
    }

    /// <summary>Updates taken so far (drives the warm-up of the decay); saved and restored with the training state.</summary>
    public long Updates
    {
        get => _updates;
        set => _updates = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The update count cannot be negative.");
    }

    /// <summary>The shadow tensors, in the order the live tensors were given.</summary>
    public IReadOnlyList<Tensor> Shadows => _pairs.Select(p => p.Shadow).ToList();

    /// <summary>Moves the shadow weights towards the live ones (floating-point tensors; integer buffers are copied).</summary>
    public void Update()
    {
        using var noGrad = no_grad();
        double decay = Math.Min(_decay, (1.0 + _updates) / (10.0 + _updates));
        _updates++;

        // Explicit Scalars that live until the loop ends: an implicit one (mul_(decay)) is unreachable once its handle is
        // read, so its finalizer may free it while libtorch still reads it (docs/training.md, "A libtorch crash in toFloat").
        using var keep = decay.ToScalar();
        using var take = (1 - decay).ToScalar();
        foreach (var (live, shadow) in _pairs)
        {
            if (live.is_floating_point())
            {
                shadow.mul_(keep).add_(live, alpha: take);
            }
            else
            {
                shadow.copy_(live);
            }
        }
    }

    /// <summary>Copies the averaged weights into the module.</summary>
    public void CopyToLive()
    {
        using var noGrad = no_grad();
        foreach (var (live, shadow) in _pairs)
        {
            live.copy_(shadow);
        }
    }

    public void Dispose()
    {
        foreach (var (_, shadow) in _pairs)
        {
            shadow.Dispose();
        }
    }
}
