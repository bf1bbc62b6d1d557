using System.Diagnostics;
using DiffusionKit.Imaging;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The dynamic batcher: a bounded queue of requests and one engine thread that runs their images in sampling loops
/// through shared network calls of up to <see cref="PipelineLimits.MaxBatchImages"/> images, with per-image seeds and
/// guidance, and hands the results to the requests. The only thread that runs the network.
/// </summary>
/// <remarks>
/// <para>Continuous batching (as LLM servers batch per token): each loop walks its own timesteps, and every network call
/// serves the next step of every running loop, each row at its own loop's time. Queued images join at the next step
/// while there is room; when nothing runs, the engine waits up to <see cref="PipelineLimits.MaxQueueDelay"/> for a
/// batch to fill. Requests that arrive together with the same (sampler, steps) form one loop; other samplers and step
/// counts run their own loops in the same network calls. Queued images are taken one per request per pass, so a request
/// larger than the room left is split across loops and shares them with the requests behind it.</para>
/// <para>Each step is one call of the library's sampling driver (<see cref="SamplingEngine"/>), the same as
/// <see cref="DiffusionSampler"/> runs, and image k of a request draws its noise from seed + k (<see cref="ImageSeeds"/>),
/// as <see cref="DiffusionSampler"/> numbers a call's images.</para>
/// <para>Cancellation: a cancelled request leaves the queue at once; in a running loop its images are dropped before the
/// next step, and a loop whose images are all dropped ends. PNG encoding runs on the thread pool while the engine goes on.</para>
/// </remarks>
internal sealed class GenerationBatcher : IDisposable
{
    private readonly object _lock = new();
    private readonly LinkedList<GenerationJob> _queue = new();
    private readonly IDenoiser _denoiser;
    private readonly SchedulerOptions _training;
    private readonly INoiseScheduler? _custom;
    private readonly Tensor _unconditional;
    private readonly PipelineLimits _limits;
    private readonly PipelineMetrics _metrics;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private int _queuedImages;
    private long _stepsRun;
    private double _secondsPerImage = 0.05;
    private bool _stopped;

    /// <param name="denoiser">What the loops call.</param>
    /// <param name="training">The training scheduler settings the built-in samplers start from.</param>
    /// <param name="custom">The caller's own scheduler for plans without a sampler; shared by their loops (each has its own <see cref="INoiseScheduler.BeginLoop"/> state), never re-planned.</param>
    /// <param name="unconditional">The unconditional context.</param>
    /// <param name="limits">Batching limits.</param>
    /// <param name="metrics">Telemetry.</param>
    /// <param name="logger">Where failures are logged.</param>
    public GenerationBatcher(IDenoiser denoiser, SchedulerOptions training, INoiseScheduler? custom, Tensor unconditional, PipelineLimits limits, PipelineMetrics metrics, ILogger logger)
    {
        _denoiser = denoiser;
        _training = training;
        _custom = custom;
        _unconditional = unconditional;
        _limits = limits;
        _metrics = metrics;
        _logger = logger;
        _thread = new Thread(EngineLoop) { IsBackground = true, Name = "DiffusionKit engine" };
        _thread.Start();
    }

    /// <summary>Images waiting for a batch.</summary>
    public int QueuedImages => Volatile.Read(ref _queuedImages);

    /// <summary>Number of sampling loops started so far (for tests and diagnostics).</summary>
    public int BatchesRun { get; private set; }

    /// <summary>Network calls made so far: one per step, shared by every running loop (for tests and diagnostics).</summary>
    public long StepsRun => Interlocked.Read(ref _stepsRun);

    /// <summary>Queues <paramref name="job"/>, or throws <see cref="PipelineBusyException"/> when its images do not fit.</summary>
    public void Enqueue(GenerationJob job)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            int images = job.Plan.ImageCount;
            if (_queuedImages + images > _limits.MaxQueuedImages)
            {
                var retry = TimeSpan.FromSeconds(Math.Clamp(Math.Ceiling(_queuedImages * _secondsPerImage), 1, 3600));
                throw new PipelineBusyException(_queuedImages, images, _limits.MaxQueuedImages, retry);
            }

            _queue.AddLast(job);
            _queuedImages += images;
            Monitor.PulseAll(_lock);
        }

        // Registered after queueing: a token cancelled already fires at once and takes the job back out.
        job.Registration = job.CancellationToken.Register(static state =>
        {
            var (batcher, cancelled) = ((GenerationBatcher, GenerationJob))state!;
            batcher.Cancel(cancelled);
        }, (this, job));
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            Monitor.PulseAll(_lock);
        }

        _thread.Join();
        lock (_lock)
        {
            foreach (var job in _queue)
            {
                Fail(job, new ObjectDisposedException(nameof(DiffusionPipeline), "The pipeline was disposed before this request ran."));
            }

            _queue.Clear();
            _queuedImages = 0;
        }

    }

    /// <summary>Takes a cancelled job out of the queue (its waiting images no longer count) and ends it.</summary>
    internal void Cancel(GenerationJob job)
    {
        lock (_lock)
        {
            if (_queue.Remove(job))
            {
                _queuedImages -= job.Waiting;
                job.NextImage = job.Plan.ImageCount;
            }
        }

        if (job.Completion.TrySetCanceled(job.CancellationToken))
        {
            job.Updates?.TryComplete(new OperationCanceledException(job.CancellationToken));
        }
    }

    private void EngineLoop()
    {
        using var inference = inference_mode();
        var running = new List<RunningLoop>();
        try
        {
            while (Admit(running))
            {
                Step(running);
            }
        }
        finally
        {
            foreach (var loop in running)
            {
                loop.Fail(new ObjectDisposedException(nameof(DiffusionPipeline), "The pipeline was disposed while this request ran."));
                loop.Dispose();
            }
        }
    }

    /// <summary>
    /// Starts loops for queued images: while loops run, whatever waits joins at once, up to the room left; when nothing
    /// runs, waits for work and for a batch to fill (up to the queue delay). False when stopping.
    /// </summary>
    private bool Admit(List<RunningLoop> running)
    {
        List<BatchSlice> slices;
        lock (_lock)
        {
            while (true)
            {
                if (_stopped)
                {
                    return false;
                }

                int room = _limits.MaxBatchImages - running.Sum(r => r.Cohort.Active.Count);
                if (_queue.First is not { } first || room <= 0)
                {
                    if (running.Count > 0)
                    {
                        return true;
                    }

                    Monitor.Wait(_lock);
                    continue;
                }

                var waited = Stopwatch.GetElapsedTime(first.Value.Enqueued);
                if (running.Count == 0 && _queuedImages < room && waited < _limits.MaxQueueDelay)
                {
                    Monitor.Wait(_lock, _limits.MaxQueueDelay - waited);
                    continue;
                }

                slices = Take(room);
                break;
            }
        }

        // One loop per (sampler, steps): a loop has one scheduler.
        foreach (var group in slices.GroupBy(s => s.Job.Plan.BatchKey))
        {
            if (Start(group.ToList()) is { } loop)
            {
                running.Add(loop);
            }
        }

        return true;
    }

    /// <summary>
    /// Takes up to <paramref name="room"/> queued images (under the lock), one image per waiting request per pass in
    /// arrival order, so a request for many images shares the batch with the requests behind it instead of filling it
    /// until it is done. Each request's images stay in order.
    /// </summary>
    private List<BatchSlice> Take(int room)
    {
        var counts = new Dictionary<GenerationJob, int>();
        for (bool took = true; took && room > 0;)
        {
            took = false;
            foreach (var job in _queue)
            {
                if (room == 0)
                {
                    break;
                }

                int count = counts.GetValueOrDefault(job);
                if (count < job.Waiting)
                {
                    counts[job] = count + 1;
                    room--;
                    took = true;
                }
            }
        }

        var slices = new List<BatchSlice>();
        foreach (var job in _queue.Where(counts.ContainsKey).ToList())
        {
            int take = counts[job];
            slices.Add(new BatchSlice(job, job.NextImage, take));
            job.NextImage += take;
            _queuedImages -= take;
            if (job.Waiting == 0)
            {
                _queue.Remove(job);
            }
        }

        return slices;
    }

    /// <summary>Starts a sampling loop over <paramref name="slices"/> (all with one batch key); null when it could not start (the jobs have failed).</summary>
    private RunningLoop? Start(List<BatchSlice> slices)
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var slice in slices.Where(s => s.Job.Started == 0))
        {
            slice.Job.Started = now;
            _metrics.QueueWait(Stopwatch.GetElapsedTime(slice.Job.Enqueued, now));
        }

        var rows = slices.SelectMany(s => Enumerable.Range(s.First, s.Count).Select(k => (Slice: s, Image: k))).ToArray();
        var plan = slices[0].Job.Plan;
        BatchesRun++;
        Tensor? contexts = null;
        PerImageNoiseSource? noise = null;
        try
        {
            int contextSize = slices[0].Job.ContextSize;
            var rowsData = new float[rows.Length * contextSize];
            for (int r = 0; r < rows.Length; r++)
            {
                var job = rows[r].Slice.Job;
                int prompt = rows[r].Image / job.Plan.ImagesPerPrompt;
                Array.Copy(job.Contexts, prompt * contextSize, rowsData, r * contextSize, contextSize);
            }

            contexts = tensor(rowsData, new long[] { rows.Length, contextSize });
            noise = new PerImageNoiseSource(rows.Select(r => r.Slice.Job.Plan.SeedOf(r.Image)).ToArray());
            var scheduler = plan.Sampler is { } kind ? SchedulerSelection.Create(kind, plan.Steps, _training)
                : _custom ?? throw new InvalidOperationException("A plan without a sampler needs the pipeline's own scheduler.");
            var batch = new SamplingBatch(_denoiser, scheduler, rows.Length, contexts, _unconditional, rows.Select(r => r.Slice.Job.Plan.GuidanceScale).ToArray(), noise);
            using var scope = NewDisposeScope();
            var cohort = new SamplingCohort(batch, new BatchObserver(rows));
            return new RunningLoop(slices, rows, cohort, contexts, noise);
        }
        catch (Exception ex)
        {
            PipelineLog.BatchFailed(_logger, ex, rows.Length);
            contexts?.Dispose();
            noise?.Dispose();
            slices.ForEach(s => Fail(s.Job, ex));
            return null;
        }
    }

    /// <summary>Drops ended images, runs one network call for the next step of every loop, and completes the loops that are done.</summary>
    private void Step(List<RunningLoop> running)
    {
        SamplingEngine.DropEnded(running, r => r.Cohort).ForEach(loop => loop.Dispose());

        if (running.Count == 0)
        {
            return;
        }

        long started = Stopwatch.GetTimestamp();
        int images = running.Sum(r => r.Cohort.Active.Count);
        _metrics.NetworkCall(images);
        try
        {
            SamplingEngine.Step(running, r => r.Cohort);
        }
        catch (Exception ex)
        {
            PipelineLog.BatchFailed(_logger, ex, images);
            foreach (var loop in running)
            {
                loop.Fail(ex);
                loop.Dispose();
            }

            running.Clear();
            return;
        }

        Interlocked.Increment(ref _stepsRun);

        // Each loop's share of the call, for the per-image cost behind a busy answer's Retry-After.
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        foreach (var loop in running)
        {
            loop.EngineSeconds += seconds * loop.Cohort.Active.Count / images;
        }

        foreach (var loop in running.Where(r => r.Cohort.IsFinished).ToList())
        {
            running.Remove(loop);
            Complete(loop);
            loop.Dispose();
        }
    }

    /// <summary>Hands a finished loop's images to its requests: pixels and PNGs off the engine thread.</summary>
    private void Complete(RunningLoop loop)
    {
        try
        {
            using var scope = NewDisposeScope();
            var outcome = loop.Cohort.Outcome();
            var images = outcome.Images!;
            float[] values = images.contiguous().data<float>().ToArray();
            int channels = (int)images.shape[1], height = (int)images.shape[2], width = (int)images.shape[3];
            int size = channels * height * width;
            var finished = outcome.Rows.Select((row, i) => (loop.Rows[row].Slice, loop.Rows[row].Image, Offset: i * size)).ToArray();
            _metrics.ImagesGenerated(finished.Length);
            _secondsPerImage = (0.7 * _secondsPerImage) + (0.3 * loop.EngineSeconds / Math.Max(1, finished.Length));
            foreach (var group in finished.GroupBy(f => f.Slice))
            {
                var items = group.ToArray();
                _ = Task.Run(() => Finish(group.Key.Job, items.Select(i => (i.Image, i.Offset)).ToArray(), values, channels, height, width));
            }
        }
        catch (Exception ex)
        {
            PipelineLog.BatchFailed(_logger, ex, loop.Rows.Length);
            loop.Fail(ex);
        }
    }

    /// <summary>Turns a job's finished rows into pixels and PNGs, reports them and completes the job with its last image.</summary>
    private void Finish(GenerationJob job, (int Image, int Offset)[] items, float[] values, int channels, int height, int width)
    {
        try
        {
            if (job.IsOver)
            {
                return;
            }

            var plan = job.Plan;
            var images = items.Select(item =>
            {
                var rgb = RgbImage.FromChannelsFirst(values.AsSpan(item.Offset, channels * height * width), channels, height, width);
                int p = item.Image / plan.ImagesPerPrompt;
                var image = new GeneratedImage(plan.Prompts[p], p, item.Image % plan.ImagesPerPrompt, plan.SeedOf(item.Image), rgb.Width, rgb.Height, rgb.Pixels, PngEncoder.Encode(rgb));
                return (Index: item.Image, Image: image);
            }).ToArray();
            double fraction = job.AddImageSteps(0);
            if (job.Updates is { } updates)
            {
                foreach (var prompt in images.GroupBy(i => i.Image.PromptIndex))
                {
                    var progress = new GenerationProgress(prompt.Key, plan.Prompts.Count, plan.Steps, plan.Steps) { Fraction = fraction };
                    updates.TryWrite(new GenerationUpdate(progress, prompt.Select(i => i.Image).ToArray()));
                }
            }

            if (job.AddImages(images))
            {
                var now = Stopwatch.GetTimestamp();
                var result = new GenerationResult(job.Images, Stopwatch.GetElapsedTime(job.Started, now)) { QueueWait = Stopwatch.GetElapsedTime(job.Enqueued, job.Started) };
                _metrics.RequestFinished(Stopwatch.GetElapsedTime(job.Enqueued, now));
                if (job.Completion.TrySetResult(result))
                {
                    job.Updates?.TryComplete();
                }
            }
        }
        catch (Exception ex)
        {
            Fail(job, ex);
        }
    }

    private static void Fail(GenerationJob job, Exception ex)
    {
        if (job.Completion.TrySetException(ex))
        {
            job.Updates?.TryComplete(ex);
        }
    }

    /// <summary>A contiguous run of one job's images in a batch.</summary>
    private sealed record BatchSlice(GenerationJob Job, int First, int Count);

    /// <summary>A sampling loop the engine is running: its slices, its rows (slice and image number), its state and what it owns.</summary>
    private sealed class RunningLoop(List<BatchSlice> slices, (BatchSlice Slice, int Image)[] rows, SamplingCohort cohort, Tensor contexts, PerImageNoiseSource noise) : IDisposable
    {
        public (BatchSlice Slice, int Image)[] Rows => rows;

        public SamplingCohort Cohort => cohort;

        /// <summary>This loop's share of the engine's time so far.</summary>
        public double EngineSeconds { get; set; }

        public void Fail(Exception ex) => slices.ForEach(s => GenerationBatcher.Fail(s.Job, ex));

        public void Dispose()
        {
            cohort.Dispose();
            contexts.Dispose();
            noise.Dispose();
        }
    }

    /// <summary>Drops the rows of ended jobs before each step; reports progress (and frames) after it.</summary>
    private sealed class BatchObserver((BatchSlice Slice, int Image)[] rows) : ISamplingObserver
    {
        public IReadOnlyList<int>? Keep(IReadOnlyList<int> active)
        {
            var keep = new List<int>(active.Count);
            for (int i = 0; i < active.Count; i++)
            {
                if (!rows[active[i]].Slice.Job.IsOver)
                {
                    keep.Add(i);
                }
            }

            return keep.Count == active.Count ? null : keep;
        }

        public void StepFinished(int step, int totalSteps, int timestep, IReadOnlyList<int> active, Tensor sample)
        {
            // Positions of the active rows per live job, then one report per prompt; the last step is reported with the images.
            var byJob = active.Select((row, position) => (Row: rows[row], Position: position))
                .Where(r => !r.Row.Slice.Job.IsOver)
                .GroupBy(r => r.Row.Slice.Job);
            foreach (var job in byJob)
            {
                double fraction = job.Key.AddImageSteps(job.Count());
                if (job.Key.Updates is not { } updates || step == totalSteps)
                {
                    continue;
                }

                var plan = job.Key.Plan;
                foreach (var prompt in job.GroupBy(r => r.Row.Image / plan.ImagesPerPrompt))
                {
                    var progress = new GenerationProgress(prompt.Key, plan.Prompts.Count, step, totalSteps) { Fraction = fraction };
                    var first = prompt.First();
                    updates.TryWrite(new GenerationUpdate(progress, Array.Empty<GeneratedImage>()) { Frame = plan.CaptureFrames ? Frame(plan, first.Row.Image, sample, first.Position) : null });
                }
            }
        }

        private static GeneratedImage Frame(GenerationPlan plan, int image, Tensor sample, int position)
        {
            using var scope = NewDisposeScope();
            var rgb = ImageTensors.ToRgbImages(DiffusionSampler.ToUnitRange(sample.narrow(0, position, 1)))[0];
            int p = image / plan.ImagesPerPrompt;
            return new GeneratedImage(plan.Prompts[p], p, image % plan.ImagesPerPrompt, plan.SeedOf(image), rgb.Width, rgb.Height, rgb.Pixels, PngEncoder.Encode(rgb));
        }
    }
}
