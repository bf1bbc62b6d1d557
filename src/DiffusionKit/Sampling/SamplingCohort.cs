using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// One batched sampling loop that advances a step at a time: its images' current sample, its scheduler loop, its
/// conditioning and its noise. <see cref="DiffusionSampler"/> runs one cohort to the end; the pipeline's engine runs
/// several at once (started at different times, with different samplers or step counts) through shared network calls,
/// each cohort at its own timestep (<see cref="StepTogether"/>).
/// </summary>
/// <remarks>
/// The current sample lives outside the step scopes; everything a step makes is disposed with the caller's step
/// scope. Per-row arithmetic does not depend on the other rows of a network call, so a cohort's images are the same
/// (within float reordering) alone or together with others. Not thread-safe: one engine thread drives it.
/// </remarks>
internal sealed class SamplingCohort : IDisposable
{
    private readonly SamplingBatch _batch;
    private readonly ISamplingObserver? _observer;
    private readonly IReadOnlyList<int> _timesteps;
    private readonly ISchedulerLoop _loop;
    private readonly BatchConditioning _rows;
    private Tensor _sample;
    private int _step;
    private bool _loopDropsRows = true;

    /// <summary>Draws the initial noise (on the CPU, so the same seed gives the same images on every device) and begins the scheduler's loop.</summary>
    public SamplingCohort(SamplingBatch batch, ISamplingObserver? observer)
    {
        _batch = batch;
        _observer = observer;
        var denoiser = batch.Denoiser;
        var scheduler = batch.Scheduler;
        _timesteps = scheduler.Timesteps;
        _rows = new BatchConditioning(batch, denoiser.Device);
        try
        {
            using (var scope = NewDisposeScope())
            {
                var noise = batch.Noise.StandardNormal([batch.Count, denoiser.Channels, denoiser.ImageSize, denoiser.ImageSize]).to(denoiser.Device);
                double initNoiseSigma = scheduler.InitNoiseSigma;
                _sample = (initNoiseSigma == 1.0 ? noise : noise * initNoiseSigma).DetachFromDisposeScope();
            }

            _loop = scheduler.BeginLoop();
        }
        catch
        {
            // Nobody gets a cohort to dispose: free what was made.
            _sample?.Dispose();
            _rows.Dispose();
            throw;
        }
    }

    /// <summary>The original rows still being sampled, ascending.</summary>
    public IReadOnlyList<int> Active => _rows.Active;

    /// <summary>Whether every step has run.</summary>
    public bool IsFinished => _step == _timesteps.Count;

    /// <summary>
    /// Asks the observer which rows to keep before the next step and drops the others from the sample, the
    /// conditioning, the scheduler loop's state and the noise source (when the loop supports it; otherwise they keep
    /// being sampled and the caller ignores them). Returns false when no rows are left.
    /// </summary>
    public bool DropEndedRows()
    {
        if (_observer?.Keep(_rows.Active) is not { } keep)
        {
            return true;
        }

        if (keep.Count == 0)
        {
            return false;
        }

        if (keep.Count < _rows.Active.Count && _loopDropsRows)
        {
            _loopDropsRows = TryKeepRows(_loop, keep);
            if (_loopDropsRows)
            {
                (_batch.Noise as PerImageNoiseSource)?.KeepRows(keep);
                using var index = tensor(keep.Select(k => (long)k).ToArray(), device: _batch.Denoiser.Device);
                using var old = _sample;
                _sample = old.index_select(0, index).DetachFromDisposeScope();
                _rows.Keep(keep);
            }
        }

        return true;
    }

    /// <summary>
    /// Runs the next step of every cohort in <paramref name="cohorts"/> (none finished, all with the same denoiser)
    /// through one network call. Call it inside a dispose scope; each cohort's new sample survives it.
    /// </summary>
    public static void StepTogether(IReadOnlyList<SamplingCohort> cohorts)
    {
        var denoiser = cohorts[0]._batch.Denoiser;
        var inputs = new BatchConditioning.Part[cohorts.Count];
        for (int i = 0; i < cohorts.Count; i++)
        {
            var cohort = cohorts[i];
            var scheduler = cohort._batch.Scheduler;
            int t = cohort._timesteps[cohort._step];
            inputs[i] = new BatchConditioning.Part(cohort._rows, scheduler.ScaleModelInput(cohort._sample, t), scheduler.GetModelTimestep(t) / scheduler.TrainTimesteps);
        }

        var eps = BatchConditioning.Predict(denoiser, inputs);
        for (int i = 0; i < cohorts.Count; i++)
        {
            cohorts[i].Advance(eps[i]);
        }
    }

    /// <summary>The images in [0, 1] (float32, CPU, in the caller's dispose scope) and their original rows; call once <see cref="IsFinished"/>.</summary>
    public SamplingOutcome Outcome() => new(DiffusionSampler.ToUnitRange(_sample).cpu(), _rows.Active.ToArray());

    public void Dispose()
    {
        _sample.Dispose();
        _loop.Dispose();
        _rows.Dispose();
    }

    private void Advance(Tensor eps)
    {
        int t = _timesteps[_step];
        var next = _loop.Step(eps, t, _sample, _batch.Noise).PrevSample.DetachFromDisposeScope();
        _sample.Dispose();
        _sample = next;
        _step++;
        _observer?.StepFinished(_step, _timesteps.Count, t, _rows.Active, _sample);
    }

    private static bool TryKeepRows(ISchedulerLoop loop, IReadOnlyList<int> keep)
    {
        try
        {
            loop.KeepRows(keep);
            return true;
        }
        catch (NotSupportedException)
        {
            // The loop cannot drop rows: keep sampling them all; the caller ignores the dropped ones.
            return false;
        }
    }
}
