using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// Hand-written mixed precision for one training run (TorchSharp 0.107 has no autocast): float32 master copies of a
/// module's parameters, which the optimiser and EMA own, while the module itself runs in bfloat16.
/// </summary>
/// <remarks>
/// <para>
/// Lifecycle: <see cref="Create"/> clones the float32 parameters into masters (the module is untouched);
/// <see cref="CastModel"/> casts the module to bfloat16; each step calls <see cref="CopyGradientsToMasters"/> after
/// the backward pass and <see cref="CopyMastersToModel"/> after the optimiser step; <see cref="RestoreModel"/> (run it
/// in a finally) casts the module back to float32, buffers included, and loads the masters into it.
/// </para>
/// <para>
/// Casting a TorchSharp module may replace its <see cref="Parameter"/> and buffer objects, so this class looks them up
/// again after every cast instead of holding on to them; callers must do the same.
/// </para>
/// </remarks>
internal sealed class BFloat16MasterWeights : IDisposable
{
    private readonly nn.Module _module;
    private readonly string[] _names;
    private readonly List<Parameter> _masters;
    private List<Parameter> _live;
    private bool _castToBFloat16;

    private BFloat16MasterWeights(nn.Module module, string[] names, List<Parameter> masters)
    {
        _module = module;
        _names = names;
        _masters = masters;
        _live = module.parameters().ToList();
    }

    /// <summary>The float32 master parameters, in the module's parameter order: give these to the optimiser and EMA.</summary>
    public IReadOnlyList<Parameter> Masters => _masters;

    /// <summary>Clones <paramref name="module"/>'s float32 parameters into masters; the module is not changed yet.</summary>
    /// <exception cref="ArgumentException">A floating-point parameter or buffer is not float32.</exception>
    public static BFloat16MasterWeights Create(nn.Module module)
    {
        var named = module.named_parameters().ToList();
        var notFloat32 = named.Where(p => p.parameter.dtype != ScalarType.Float32).Select(p => $"{p.name} ({p.parameter.dtype})")
            .Concat(module.named_buffers().Where(b => b.buffer.is_floating_point() && b.buffer.dtype != ScalarType.Float32).Select(b => $"{b.name} ({b.buffer.dtype})"))
            .ToList();
        if (notFloat32.Count > 0)
        {
            throw new ArgumentException($"Precision.BFloat16 trains a float32 model (it keeps float32 master weights and returns the model in float32), but these tensors are not float32: {string.Join(", ", notFloat32.Take(5))}; cast the model with .to(ScalarType.Float32) first.", "model");
        }

        var masters = new List<Parameter>(named.Count);
        using (no_grad())
        {
            foreach (var (_, parameter) in named)
            {
                var master = new Parameter(parameter.detach().clone(), requires_grad: true);
                master.DetachFromDisposeScope();
                masters.Add(master);
            }
        }

        return new BFloat16MasterWeights(module, named.Select(p => p.name).ToArray(), masters);
    }

    /// <summary>Casts the module (parameters and floating-point buffers) to bfloat16.</summary>
    public void CastModel()
    {
        _castToBFloat16 = true;
        _module.to(ScalarType.BFloat16);
        _live = LiveParameters();
    }

    /// <summary>Sets each master's gradient to its bfloat16 parameter's gradient in float32 (null where the parameter got none).</summary>
    /// <remarks>Call inside the step's dispose scope: the temporary gradient handles go with it.</remarks>
    public void CopyGradientsToMasters()
    {
        for (int i = 0; i < _live.Count; i++)
        {
            var grad = _live[i].grad;
            _masters[i].grad = grad?.to(ScalarType.Float32);
        }
    }

    /// <summary>Rounds the masters into the bfloat16 parameters.</summary>
    public void CopyMastersToModel()
    {
        using var noGrad = no_grad();
        for (int i = 0; i < _live.Count; i++)
        {
            _live[i].copy_(_masters[i]);
        }
    }

    /// <summary>Casts the module back to float32 (parameters and buffers) and loads the masters into its parameters.</summary>
    public void RestoreModel()
    {
        if (!_castToBFloat16)
        {
            return;
        }

        _module.zero_grad();
        _module.to(ScalarType.Float32);
        _live = LiveParameters();
        _castToBFloat16 = false;
        using var noGrad = no_grad();
        for (int i = 0; i < _live.Count; i++)
        {
            _live[i].copy_(_masters[i]);
        }
    }

    /// <summary>Frees the masters and their gradients.</summary>
    public void Dispose()
    {
        foreach (var master in _masters)
        {
            master.grad = null;
            master.Dispose();
        }
    }

    private List<Parameter> LiveParameters()
    {
        var named = _module.named_parameters().ToList();
        if (!named.Select(p => p.name).SequenceEqual(_names))
        {
            throw new InvalidOperationException("The module's parameters changed while it was cast; mixed-precision training needs a fixed set of parameters.");
        }

        return named.Select(p => p.parameter).ToList();
    }
}
