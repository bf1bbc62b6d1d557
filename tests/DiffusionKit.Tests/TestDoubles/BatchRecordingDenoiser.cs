using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>Wraps a denoiser and records the batch size of every network call (thread-safe).</summary>
internal sealed class BatchRecordingDenoiser(IDenoiser inner) : IDenoiser
{
    private readonly List<long> _calls = new();

    public IReadOnlyList<long> Calls
    {
        get
        {
            lock (_calls)
            {
                return _calls.ToArray();
            }
        }
    }

    public int Channels => inner.Channels;

    public int ImageSize => inner.ImageSize;

    public int ContextSize => inner.ContextSize;

    public Device Device => inner.Device;

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
    {
        lock (_calls)
        {
            _calls.Add(sample.shape[0]);
        }

        return inner.PredictNoise(sample, time, context);
    }
}
