using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The pipeline's telemetry: a <see cref="Meter"/> and an <see cref="ActivitySource"/>, both named
/// <see cref="Name"/> (<c>"DiffusionKit"</c>), so OpenTelemetry's <c>AddMeter("DiffusionKit")</c> and
/// <c>AddSource("DiffusionKit")</c> pick them up without an adapter.
/// </summary>
/// <remarks>
/// Instruments: <c>diffusionkit.queue.images</c> (images waiting), <c>diffusionkit.batch.size</c> (images per
/// network call, over every sampling loop that shares it), <c>diffusionkit.images.generated</c>, <c>diffusionkit.request.queue_wait</c> and
/// <c>diffusionkit.request.duration</c> (seconds), <c>diffusionkit.requests.rejected</c> (tag <c>reason</c>: the limit's
/// name, <c>busy</c> or <c>invalid</c>). Each pipeline has its own meter instance; dispose it with the pipeline.
/// </remarks>
internal sealed class PipelineMetrics : IDisposable
{
    /// <summary>The meter's and the activity source's name.</summary>
    public const string Name = "DiffusionKit";

    /// <summary>The activity source of every pipeline: one <c>diffusionkit.generate</c> span per request.</summary>
    public static readonly ActivitySource ActivitySource = new(Name, typeof(PipelineMetrics).Assembly.GetName().Version?.ToString());

    private readonly Counter<long> _generated;
    private readonly Counter<long> _rejected;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<double> _duration;

    public PipelineMetrics(Func<int> queuedImages)
    {
        Meter = new Meter(Name, typeof(PipelineMetrics).Assembly.GetName().Version?.ToString());
        Meter.CreateObservableUpDownCounter("diffusionkit.queue.images", queuedImages, "{image}", "Images waiting in the queue for a batch.");
        _batchSize = Meter.CreateHistogram<int>("diffusionkit.batch.size", "{image}", "Images in each network call (one per step, shared by every running sampling loop).");
        _generated = Meter.CreateCounter<long>("diffusionkit.images.generated", "{image}", "Images generated.");
        _queueWait = Meter.CreateHistogram<double>("diffusionkit.request.queue_wait", "s", "Time from a request's arrival to the start of its first batch.");
        _duration = Meter.CreateHistogram<double>("diffusionkit.request.duration", "s", "Time from a request's arrival to its last image.");
        _rejected = Meter.CreateCounter<long>("diffusionkit.requests.rejected", "{request}", "Requests rejected at once, by reason (a limit's name, busy, invalid).");
    }

    /// <summary>This pipeline's meter.</summary>
    public Meter Meter { get; }

    public void NetworkCall(int images) => _batchSize.Record(images);

    public void ImagesGenerated(int images) => _generated.Add(images);

    public void QueueWait(TimeSpan wait) => _queueWait.Record(wait.TotalSeconds);

    public void RequestFinished(TimeSpan duration) => _duration.Record(duration.TotalSeconds);

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => Meter.Dispose();
}
