using DiffusionKit.Models;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>
/// A small U-Net plus a term that grows with the time, 3·t·x: a freshly initialised network barely depends on its time
/// input, so tests that must see each row's own time use this. With <paramref name="guided"/> it also offers the guided
/// entry point (<see cref="IGuidedDenoiser"/>), adding the same term to the paired rows.
/// </summary>
internal class TimeSensitiveDenoiser(ContextUnet inner) : IDenoiser
{
    public int Channels => inner.Channels;

    public int ImageSize => inner.ImageSize;

    public int ContextSize => inner.ContextSize;

    public Device Device => inner.Device;

    protected ContextUnet Inner => inner;

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) => inner.PredictNoise(sample, time, context) + TimeTerm(sample, time);

    protected static Tensor TimeTerm(Tensor sample, Tensor time) => 3 * time.view(-1, 1, 1, 1) * sample;
}

/// <inheritdoc cref="TimeSensitiveDenoiser"/>
internal sealed class TimeSensitiveGuidedDenoiser(ContextUnet inner) : TimeSensitiveDenoiser(inner), IGuidedDenoiser
{
    public Tensor PredictNoiseGuided(Tensor sample, Tensor time, Tensor? context, Tensor? pairedRows, Tensor? pairedContext)
    {
        var eps = ((IGuidedDenoiser)Inner).PredictNoiseGuided(sample, time, context, pairedRows, pairedContext);
        if (pairedContext is null)
        {
            return eps + TimeTerm(sample, time);
        }

        var samples = cat(new[] { sample, pairedRows is null ? sample : sample.index_select(0, pairedRows) }, 0);
        var times = cat(new[] { time, pairedRows is null ? time : time.index_select(0, pairedRows) }, 0);
        return eps + TimeTerm(samples, times);
    }
}
