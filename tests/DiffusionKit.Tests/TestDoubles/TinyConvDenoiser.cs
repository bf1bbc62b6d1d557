using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>
/// A second denoiser architecture, not a U-Net: three 3x3 convolutions at full resolution with a residual middle block,
/// time and context added after the first one through a linear embedding. It is what a user plugs in: a
/// <see cref="DenoiserModule"/> with its own <c>model.type</c> (<see cref="TinyConvDenoiserType"/>), built with public API only.
/// </summary>
/// <remarks>
/// Its convolutions keep the channel counts the network declares (<see cref="Channels"/> in and out, <see cref="Hidden"/>
/// inside) and run through the public <see cref="KernelRouting.Call"/>, so on a CPU whose kernels the check found faulty
/// (AMD Zen 5: oneDNN returns NaN from convolutions whose channel counts fill its 16-wide blocks only in part) they take
/// the route the check chose, as the context U-Net's do. The check itself runs on this network's own forward pass
/// (<see cref="DenoiserModule.EnsureKernelsChecked"/>, called first in <see cref="forward"/>).
/// </remarks>
internal sealed class TinyConvDenoiser : DenoiserModule
{
#pragma warning disable IDE1006 // Naming: the fields are the state_dict keys.
    private readonly Conv2d conv_in;
    private readonly Linear embed;
    private readonly Conv2d conv_mid;
    private readonly Conv2d conv_out;
#pragma warning restore IDE1006

    public TinyConvDenoiser(int channels, int imageSize, int contextSize, int hidden, long? seed)
        : base(nameof(TinyConvDenoiser))
    {
        (Channels, ImageSize, ContextSize, Hidden) = (channels, imageSize, contextSize, hidden);
        conv_in = nn.Conv2d(channels, hidden, 3, padding: 1);
        embed = nn.Linear(contextSize + 1, hidden);
        conv_mid = nn.Conv2d(hidden, hidden, 3, padding: 1);
        conv_out = nn.Conv2d(hidden, channels, 3, padding: 1);
        RegisterComponents();
        if (seed is { } s)
        {
            // U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from the seed alone, never the global generator.
            using var generator = new Generator((ulong)s);
            using var noGrad = no_grad();
            foreach (var module in new nn.Module[] { conv_in, embed, conv_mid, conv_out })
            {
                var parameters = module.parameters().ToList();
                double bound = 1 / Math.Sqrt(parameters[0].numel() / parameters[0].shape[0]);
                foreach (var p in parameters)
                {
                    p.copy_((rand(p.shape, generator: generator) * 2 - 1) * bound);
                }
            }
        }
    }

    /// <summary>The multiple <see cref="Hidden"/> must be (8).</summary>
    public const int HiddenMultiple = 8;

    public override int Channels { get; }

    public override int ImageSize { get; }

    public override int ContextSize { get; }

    public int Hidden { get; }

    public override DenoiserType DenoiserType => TinyConvDenoiserType.Instance;

    public override CheckpointConfig.ModelConfig DescribeForCheckpoint() => TinyConvDenoiserType.Describe(this);

    public override Tensor forward(Tensor sample, Tensor time, Tensor? context)
    {
        EnsureKernelsChecked(sample);
        using var scope = NewDisposeScope();
        var c = context ?? zeros(sample.shape[0], ContextSize, dtype: sample.dtype, device: sample.device);
        var e = embed.call(cat(new[] { c, time.view(-1, 1).to(sample.dtype) }, 1)).view(-1, Hidden, 1, 1);
        var h = nn.functional.gelu(KernelRouting.Call(conv_in, sample) + e);
        h = nn.functional.gelu(KernelRouting.Call(conv_mid, h)) + h;
        return KernelRouting.Call(conv_out, h).MoveToOuterDisposeScope();
    }
}
