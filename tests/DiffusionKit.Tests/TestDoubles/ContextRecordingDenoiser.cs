using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>A <see cref="TinyDenoiser"/> that records (a detached copy of) every context it is called with.</summary>
internal sealed class ContextRecordingDenoiser : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
{
    private readonly TinyDenoiser inner;

    public ContextRecordingDenoiser(int contextSize)
        : base(nameof(ContextRecordingDenoiser))
    {
        inner = new TinyDenoiser(contextSize: contextSize);
        RegisterComponents();
    }

    public List<float[]> Contexts { get; } = new();

    public int Channels => inner.Channels;

    public int ImageSize => inner.ImageSize;

    public int ContextSize => inner.ContextSize;

    public Device Device => inner.Device;

    public override Tensor forward(Tensor sample, Tensor time, Tensor? context)
    {
        if (context is not null)
        {
            for (long i = 0; i < context.shape[0]; i++)
            {
                using var row = context[i].detach().cpu();
                Contexts.Add(row.data<float>().ToArray());
            }
        }

        return inner.call(sample, time, context);
    }

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) => call(sample, time, context);
}
