using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// Copies named weights into a module's <c>state_dict</c> (parameters and buffers) with checks that name the
/// problem, and takes detached copies out of it; pair with <see cref="SafeTensorsFile"/> for checkpoints.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="Load"/> checks everything before it copies anything, so a failed load leaves the module unchanged.
/// Floating-point weights are converted to the module's floating-point dtype (a bf16 checkpoint loads into a float32
/// model); any other dtype difference is an error.
/// </para>
/// </remarks>
public static class ModuleWeights
{
    /// <summary>Copies <paramref name="weights"/> into <paramref name="module"/>'s parameters and buffers.</summary>
    /// <param name="module">The module to load into; its weights may live on any device.</param>
    /// <param name="weights">Tensors by <c>state_dict</c> name (for example from <see cref="SafeTensorsFile.Read(string)"/>); not modified or disposed.</param>
    /// <param name="strict">
    /// True (the default): every module name must be present and no other names may appear. False: missing names are
    /// left unchanged and unexpected ones ignored (both reported in the result). Shapes are always checked.
    /// </param>
    /// <returns>The names loaded, missing and unexpected.</returns>
    /// <exception cref="ArgumentException">
    /// Names are missing or unexpected (strict), or shapes or dtypes do not match; the message lists every problem.
    /// </exception>
    public static WeightLoadResult Load(nn.Module module, IReadOnlyDictionary<string, Tensor> weights, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(weights);

        var targets = module.state_dict();
        var missing = targets.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        var unexpected = weights.Keys.Where(k => !targets.ContainsKey(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        var loaded = targets.Keys.Where(weights.ContainsKey).ToList();

        var problems = new StringBuilder();
        if (strict && missing.Count > 0)
        {
            problems.Append(FormattableString.Invariant($"\n  missing ({missing.Count}): {string.Join(", ", missing)}"));
        }

        if (strict && unexpected.Count > 0)
        {
            problems.Append(FormattableString.Invariant($"\n  unexpected ({unexpected.Count}): {string.Join(", ", unexpected)}"));
        }

        foreach (var name in loaded)
        {
            var target = targets[name];
            var source = weights[name];
            if (!target.shape.SequenceEqual(source.shape))
            {
                problems.Append(FormattableString.Invariant($"\n  {name}: expected shape {Format(target.shape)} but the weights have {Format(source.shape)}"));
            }
            else if (target.dtype != source.dtype && !(target.is_floating_point() && source.is_floating_point()))
            {
                problems.Append(FormattableString.Invariant($"\n  {name}: expected dtype {target.dtype} but the weights have {source.dtype}"));
            }
        }

        if (problems.Length > 0)
        {
            throw new ArgumentException(
                $"The weights do not fit {module.GetType().Name}; nothing was loaded. Check that the checkpoint was saved from the same architecture and options (or pass strict: false to skip missing and unexpected names):{problems}",
                nameof(weights));
        }

        using (torch.no_grad())
        {
            foreach (var name in loaded)
            {
                targets[name].copy_(weights[name]);
            }
        }

        return new WeightLoadResult(loaded, missing, unexpected);
    }

    /// <summary>Takes a detached, contiguous CPU copy of every parameter and buffer of <paramref name="module"/>.</summary>
    /// <param name="module">The module to copy from; not changed.</param>
    /// <returns>New tensors by <c>state_dict</c> name, owned by the caller (dispose them when done).</returns>
    public static Dictionary<string, Tensor> Save(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, tensor) in module.state_dict())
        {
            using var scope = torch.NewDisposeScope();
            var copy = tensor.detach().cpu().clone().contiguous();
            result.Add(name, copy.MoveToOuterDisposeScope());
        }

        return result;
    }

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
