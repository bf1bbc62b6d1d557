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
/// Faulty CPU kernels: inside DiffusionKit a network opts in to the routes the kernel check chose for this process by
/// calling its convolutions through <c>Native.KernelRouting</c> (<c>KernelRouting.Call(conv, x)</c> or
/// <c>KernelRouting.Conv2d(...)</c> instead of <c>conv.call(x)</c>), as <see cref="ContextUnet"/> does. That class is
/// internal today, so a network defined outside the library runs libtorch's kernels directly. The check itself
/// (numerics of the forward and backward passes against float64), sampling in bfloat16 (<see cref="BFloat16Denoiser"/>),
/// channels-last activations and the guided forward pass that shares the down path are the context U-Net's only; other
/// networks sample in float32 and run guided images through their plain <c>forward</c>.
/// </para>
/// </remarks>
public abstract class DenoiserModule : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
{
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

    /// <inheritdoc />
    /// <remarks>Checks the inputs, then runs <c>forward</c>.</remarks>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">
    /// A tensor has the wrong rank, shape, batch size, dtype or device, or contains NaN or infinity; the message names
    /// the parameter and says how to fix it.
    /// </exception>
    public virtual Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
    {
        DenoiserInputs.Check(this, sample, time, context);
        return forward(sample, time, context);
    }
}
