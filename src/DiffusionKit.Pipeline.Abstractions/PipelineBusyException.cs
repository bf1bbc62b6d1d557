using System.Globalization;

namespace DiffusionKit;

/// <summary>
/// The pipeline's queue is full: the request was rejected at once, without waiting, and may be retried later. Hosts map
/// it to HTTP 503 with a <c>Retry-After</c> header taken from <see cref="RetryAfter"/>.
/// </summary>
/// <remarks>Distinct from <see cref="GenerationLimitExceededException"/>: the request itself is acceptable, the server is busy.</remarks>
public sealed class PipelineBusyException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="queuedImages">Images already waiting when the request arrived.</param>
    /// <param name="requestedImages">Images the rejected request asked for.</param>
    /// <param name="maxQueuedImages">The pipeline's <c>MaxQueuedImages</c> limit.</param>
    /// <param name="retryAfter">A suggested wait before retrying (an estimate of how long the queue takes to drain).</param>
    public PipelineBusyException(int queuedImages, int requestedImages, int maxQueuedImages, TimeSpan retryAfter)
        : base(string.Create(CultureInfo.InvariantCulture, $"The pipeline is busy: {queuedImages} image(s) are queued and this request adds {requestedImages}, over the MaxQueuedImages limit of {maxQueuedImages}. Retry after about {Math.Ceiling(retryAfter.TotalSeconds):F0} s."))
    {
        QueuedImages = queuedImages;
        RequestedImages = requestedImages;
        MaxQueuedImages = maxQueuedImages;
        RetryAfter = retryAfter;
    }

    /// <summary>Images already waiting when the request arrived.</summary>
    public int QueuedImages { get; }

    /// <summary>Images the rejected request asked for.</summary>
    public int RequestedImages { get; }

    /// <summary>The pipeline's <c>MaxQueuedImages</c> limit.</summary>
    public int MaxQueuedImages { get; }

    /// <summary>A suggested wait before retrying (DiffusionKit's pipeline suggests at least one second); for an HTTP <c>Retry-After</c> header, round up to whole seconds.</summary>
    public TimeSpan RetryAfter { get; }
}
