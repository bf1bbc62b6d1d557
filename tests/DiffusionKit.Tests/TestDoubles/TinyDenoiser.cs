using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>A small trainable denoiser (two convolutions, time and context added per channel) for fast loop tests.</summary>
internal sealed class TinyDenoiser : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Linear embed;

    /// <summary>Creates the network with weights drawn from <c>new Generator(seed)</c> (never the shared global RNG), U(-1/sqrt(fan_in), 1/sqrt(fan_in)).</summary>
    public static TinyDenoiser Seeded(long seed)
    {
        var model = new TinyDenoiser();
        using var generator = new Generator((ulong)seed);
        using var noGrad = no_grad();
        foreach (var module in new nn.Module[] { model.conv1, model.conv2, model.embed })
        {
            var parameters = module.parameters().ToList();
            var weight = parameters[0];
            double bound = 1 / Math.Sqrt(weight.numel() / weight.shape[0]);
            foreach (var p in parameters)
            {
                p.copy_((rand(p.shape, generator: generator) * 2 - 1) * bound);
            }
        }

        return model;
    }

    public TinyDenoiser(int channels = 3, int imageSize = 8, int contextSize = 4, int hidden = 16)
        : base(nameof(TinyDenoiser))
    {
        Channels = channels;
        ImageSize = imageSize;
        ContextSize = contextSize;
        conv1 = nn.Conv2d(channels, hidden, 3, padding: 1);
        conv2 = nn.Conv2d(hidden, channels, 3, padding: 1);
        embed = nn.Linear(contextSize + 1, hidden);
        RegisterComponents();
    }

    public int Channels { get; }

    public int ImageSize { get; }

    public int ContextSize { get; }

    public Device Device => conv1.weight!.device;

    public override Tensor forward(Tensor sample, Tensor time, Tensor? context)
    {
        using var scope = NewDisposeScope();
        var c = context ?? zeros(sample.shape[0], ContextSize);
        var e = embed.call(cat(new[] { c, time.view(-1, 1) }, 1)).view(-1, conv1.weight!.shape[0], 1, 1);
        return KernelRouting.Call(conv2, nn.functional.gelu(KernelRouting.Call(conv1, sample) + e)).MoveToOuterDisposeScope();
    }

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) => call(sample, time, context);
}
