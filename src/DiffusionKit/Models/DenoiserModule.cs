using DiffusionKit.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// A denoising network the pipeline, the trainer and checkpoints can all work with: a TorchSharp module whose
/// <c>forward(x_t, t / T, context)</c> predicts what its scheduler's prediction type asks for, and an
/// <see cref="IDenoiser"/>. <see cref="ContextUnet"/> is the built-in one; derive from this class (and register a
/// <see cref="DenoiserType"/>) to plug in another architecture.
/// </summary>
/// <remarks>
/// <para>
/// A derived network declares its sizes (<see cref="IDenoiser.Channels"/>, <see cref="IDenoiser.ImageSize"/>,
/// <see cref="IDenoiser.ContextSize"/>), implements <c>forward</c>, names the <see cref="DenoiserType"/> that rebuilds it
/// from a checkpoint and describes itself as that type's <c>config.json</c> <c>model</c> section
/// (<see cref="DescribeForCheckpoint"/>). Its <c>state_dict</c> is what <c>model.safetensors</c> holds.
/// </para>
/// <para>
/// Faulty CPU kernels (docs/training.md, "Faulty CPU kernels"): the kernel check runs for every denoiser module, on a
/// copy of the module itself (rebuilt through <see cref="DenoiserType"/> from <see cref="DescribeForCheckpoint"/>, its
/// <c>state_dict</c> copied): its forward (and, for training, backward) pass in float32 or bfloat16 is compared with the
/// same pass in float64, before training, when a pipeline is built and on the first <see cref="PredictNoise"/> (or
/// <see cref="EnsureKernelsChecked"/>) in a dtype. A network takes the route the check chose by calling its convolutions
/// through <see cref="Native.KernelRouting"/> (<c>KernelRouting.Call(conv, x)</c> or <c>KernelRouting.Conv2d(...)</c>
/// instead of <c>conv.call(x)</c>), as <see cref="ContextUnet"/> does; convolutions called directly run libtorch's
/// kernels whatever the check found. Sampling in bfloat16 (<see cref="BFloat16Denoiser"/>), channels-last activations
/// and the guided forward pass that shares the down path are the context U-Net's only; other networks sample in float32
/// and run guided images through their plain <c>forward</c>.
/// </para>
/// </remarks>
public abstract class DenoiserModule : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
{
    /// <summary>The (dtype, backward) passes this instance has had checked: the check's cache lookup then costs nothing per call.</summary>
    private readonly HashSet<(ScalarType DType, bool Backward)> _kernelsChecked = new();

    /// <summary>Creates the module.</summary>
    /// <param name="name">The module's name (TorchSharp's; not part of parameter names).</param>
    protected DenoiserModule(string name)
        : base(name)
    {
    }

    /// <inheritdoc />
    public abstract int Channels { get; }

    /// <inheritdoc />
    public abstract int ImageSize { get; }

    /// <inheritdoc />
    public abstract int ContextSize { get; }

    /// <inheritdoc />
    /// <remarks>The device of the first parameter.</remarks>
    public virtual Device Device => parameters().First().device;

    /// <summary>The registered type that rebuilds this network from its <see cref="DescribeForCheckpoint"/> section.</summary>
    public abstract DenoiserType DenoiserType { get; }

    /// <summary>
    /// This network's <c>config.json</c> <c>model</c> section: <see cref="CheckpointConfig.ModelConfig.Type"/> is
    /// <see cref="DenoiserType"/>'s name and the settings are what its <see cref="DenoiserType.Create"/> needs to rebuild
    /// the same architecture.
    /// </summary>
    /// <returns>A new section.</returns>
    public abstract CheckpointConfig.ModelConfig DescribeForCheckpoint();

    /// <summary>
    /// Runs the kernel check for this network in <paramref name="sample"/>'s dtype (the backward pass too while the module
    /// is training with gradients on), once per instance, dtype and pass; the result is cached per process and
    /// architecture, and the check's own passes skip it. Call it first in <c>forward</c> so that direct callers of
    /// <c>forward</c> are covered too (<see cref="PredictNoise"/> calls it already). Does nothing off the CPU, for dtypes
    /// other than float32 and bfloat16, or while the parameters are of another dtype than the input.
    /// </summary>
    /// <param name="sample">The input about to be run (only its dtype and device are read).</param>
    /// <exception cref="ArgumentNullException">When <paramref name="sample"/> is null.</exception>
    protected void EnsureKernelsChecked(Tensor sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        bool backward = training && torch.is_grad_enabled();
        if (sample.device_type == DeviceType.CPU && !_kernelsChecked.Contains((sample.dtype, backward)))
        {
            Native.KernelCheck.EnsureOnFirstCall(this, sample.dtype, backward);
            _kernelsChecked.Add((sample.dtype, backward));
        }
    }

    /// <summary>
    /// A copy of this network (weights and buffers) in <paramref name="dtype"/> on the CPU, for the kernel check's
    /// reference and candidate passes: built by <see cref="DenoiserType"/> from <see cref="DescribeForCheckpoint"/>, its
    /// <c>state_dict</c> copied from this one.
    /// </summary>
    /// <exception cref="InvalidOperationException">When the rebuilt network's <c>state_dict</c> differs from this one's.</exception>
    internal DenoiserModule CopyAs(ScalarType dtype)
    {
        var copy = DenoiserType.Create(DescribeForCheckpoint());
        try
        {
            using (torch.no_grad())
            {
                var source = state_dict();
                var target = copy.state_dict();
                if (source.Count != target.Count || target.Any(kv => !source.TryGetValue(kv.Key, out var s) || !s.shape.SequenceEqual(kv.Value.shape)))
                {
                    throw new InvalidOperationException($"{DenoiserType.Name}: the network its DenoiserType.Create builds from DescribeForCheckpoint() has another state_dict than this one; the kernel check (and checkpoints) need the same names and shapes.");
                }

                foreach (var (name, tensor) in target)
                {
                    tensor.copy_(source[name]);
                }
            }

            copy.to(dtype);
            return copy;
        }
        catch
        {
            copy.Dispose();
            throw;
        }
    }

    /// <summary>The architecture as the kernel check's cache key: the type name and the <c>model</c> section's settings.</summary>
    internal string ArchitectureKey()
    {
        var section = DescribeForCheckpoint();
        return section.Type + "{" + string.Join(",", section.Settings.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key + "=" + kv.Value.GetRawText())) + "}";
    }

    /// <inheritdoc />
    /// <remarks>Checks the inputs, runs the kernel check on the first call in a dtype (<see cref="EnsureKernelsChecked"/>), then runs <c>forward</c>.</remarks>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">
    /// A tensor has the wrong rank, shape, batch size, dtype or device, or contains NaN or infinity; the message names
    /// the parameter and says how to fix it.
    /// </exception>
    public virtual Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
    {
        DenoiserInputs.Check(this, sample, time, context);
        EnsureKernelsChecked(sample);
        return forward(sample, time, context);
    }
}
