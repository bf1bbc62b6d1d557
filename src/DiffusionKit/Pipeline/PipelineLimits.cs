using System.Globalization;

namespace DiffusionKit.Pipeline;

/// <summary>
/// How a <see cref="DiffusionPipeline"/> batches concurrent requests and what it accepts: the batch size, how long a
/// batch waits to fill, and the limits on one request and on the queue. Every default is documented on its property.
/// </summary>
/// <remarks>
/// <para>Batching (continuous, as LLM servers batch per token): every network call serves the next step of every running
/// sampling loop, up to <see cref="MaxBatchImages"/> images, each at its own loop's timestep. Queued images join at the
/// next step while there is room; when nothing runs, the engine waits up to <see cref="MaxQueueDelay"/> after the oldest
/// arrived for a batch to fill. Requests with different prompts, seeds and guidance share a loop; requests with a
/// different sampler or step count run their own loops in the same network calls.</para>
/// <para>Memory: the network's activations are bounded by <see cref="MaxBatchImages"/>, a request's results by
/// <see cref="MaxImagesPerRequest"/>, and everything waiting by <see cref="MaxQueuedImages"/>, so no request can make
/// the process allocate more than these allow. Over a request limit: <see cref="GenerationLimitExceededException"/>
/// (an <see cref="ArgumentException"/>, HTTP 400) at once; queue full: <see cref="PipelineBusyException"/> (HTTP 503) at once.</para>
/// </remarks>
public sealed class PipelineLimits
{
    /// <summary>
    /// Images per network call, over every running loop (each guided image counts once, although it takes two rows of
    /// the call). Default 16: on a 2-core CPU the demo-sized network ran fastest per image at about 32 rows per call
    /// (larger calls spill the caches; docs/benchmarks.md); raise it on a GPU. At least 1.
    /// </summary>
    public int MaxBatchImages { get; set; } = 16;

    /// <summary>
    /// When no loop is running, how long the engine waits, after the oldest queued request arrived, for more images to
    /// fill a batch (while loops run, queued images join at the next step without waiting). Default 20 ms: long enough
    /// for clients whose previous images just came back to send their next requests (before continuous batching, at
    /// concurrency 16 on the 2-core project machine, 17.7 images/s with 5 ms and 22.7 with 20 ms; with it, 0, 2 and
    /// 20 ms were within noise; docs/benchmarks.md), short next to a request's own time (hundreds of milliseconds). Zero
    /// or more, at most 10 s.
    /// </summary>
    public TimeSpan MaxQueueDelay { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>Images one request may ask for (prompts × images per prompt). Default 256. At least 1, at most <see cref="MaxQueuedImages"/>.</summary>
    public int MaxImagesPerRequest { get; set; } = 256;

    /// <summary>Denoising steps one request may ask for. Default 1000 (DDPM walks every training timestep: 500 for the course). At least 1.</summary>
    public int MaxSteps { get; set; } = 1000;

    /// <summary>Characters one prompt may have. Default 1000. At least 1.</summary>
    public int MaxPromptLength { get; set; } = 1000;

    /// <summary>Images waiting to be sampled, over all requests; a request that would pass it is rejected as busy. Default 1024. At least 1.</summary>
    public int MaxQueuedImages { get; set; } = 1024;

    /// <summary>A copy of these settings.</summary>
    /// <returns>A new instance with the same values.</returns>
    public PipelineLimits Clone() => (PipelineLimits)MemberwiseClone();

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When a setting is out of range; <see cref="ArgumentException.ParamName"/> names it.</exception>
    public void Validate()
    {
        static void AtLeastOne(int value, string name)
        {
            if (value < 1)
            {
                throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"PipelineLimits.{name} must be at least 1."));
            }
        }

        AtLeastOne(MaxBatchImages, nameof(MaxBatchImages));
        AtLeastOne(MaxImagesPerRequest, nameof(MaxImagesPerRequest));
        AtLeastOne(MaxSteps, nameof(MaxSteps));
        AtLeastOne(MaxPromptLength, nameof(MaxPromptLength));
        AtLeastOne(MaxQueuedImages, nameof(MaxQueuedImages));
        if (MaxQueueDelay < TimeSpan.Zero || MaxQueueDelay > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxQueueDelay), MaxQueueDelay, "PipelineLimits.MaxQueueDelay must lie in 0..10 s (a few milliseconds is typical).");
        }

        if (MaxImagesPerRequest > MaxQueuedImages)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxImagesPerRequest), MaxImagesPerRequest, string.Create(CultureInfo.InvariantCulture, $"PipelineLimits.MaxImagesPerRequest ({MaxImagesPerRequest}) must not exceed MaxQueuedImages ({MaxQueuedImages}): such a request could never be queued."));
        }
    }
}
