using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>The outcome of one <see cref="INoiseScheduler.Step(Tensor, int, Tensor, INoiseSource)"/>: the previous sample and the predicted clean sample.</summary>
/// <param name="PrevSample">x_{t_prev}, same shape as the input sample.</param>
/// <param name="PredictedOriginalSample">The model's current estimate of x0, same shape as the input sample.</param>
/// <remarks>Both tensors are owned by the caller; <see cref="Dispose"/> releases them.</remarks>
public sealed record SchedulerStepResult(Tensor PrevSample, Tensor PredictedOriginalSample) : IDisposable
{
    /// <summary>Disposes both tensors.</summary>
    public void Dispose()
    {
        PrevSample.Dispose();
        PredictedOriginalSample.Dispose();
    }
}
