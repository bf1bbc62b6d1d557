using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>diffusers' closed-form test model: eps = sample · t / (t + 1), plus the context's mean so conditioning is visible.</summary>
internal sealed class ClosedFormDenoiser : IDenoiser
{
    public ClosedFormDenoiser(int channels = 3, int imageSize = 8, int contextSize = 4)
    {
        Channels = channels;
        ImageSize = imageSize;
        ContextSize = contextSize;
    }

    public int Channels { get; }

    public int ImageSize { get; }

    public int ContextSize { get; }

    public Device Device => CPU;

    public int Calls { get; private set; }

    public long LastBatch { get; private set; }

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
    {
        Calls++;
        LastBatch = sample.shape[0];
        using var scope = NewDisposeScope();
        var t = time.view(-1, 1, 1, 1);
        var eps = sample * t / (t + 1);
        if (context is not null)
        {
            eps = eps + context.mean(new long[] { 1 }).view(-1, 1, 1, 1);
        }

        return eps.MoveToOuterDisposeScope();
    }
}
