using System.Diagnostics;
using System.Threading.Channels;

namespace DiffusionKit.Pipeline;

/// <summary>A validated request with every default resolved; <see cref="Sampler"/> null means the builder's own scheduler (<see cref="PipelineDefaults.Scheduler"/>).</summary>
internal sealed record GenerationPlan(IReadOnlyList<string> Prompts, int ImagesPerPrompt, SamplerKind? Sampler, int Steps, double GuidanceScale, long Seed, bool CaptureFrames)
{
    /// <summary>Images in the request.</summary>
    public int ImageCount => Prompts.Count * ImagesPerPrompt;

    /// <summary>Image k's own seed: the request seed + k (k = prompt index · images per prompt + image index).</summary>
    public long SeedOf(int image) => Sampling.ImageSeeds.Of(Seed, image);

    /// <summary>Requests with the same key can share a sampling loop.</summary>
    public (SamplerKind? Sampler, int Steps) BatchKey => (Sampler, Steps);

    /// <summary>The sampler's name for logs: the <see cref="SamplerKind"/>, or the custom scheduler's class.</summary>
    public string SamplerName(INoiseScheduler? custom) => Sampler?.ToString() ?? custom?.GetType().Name ?? "custom";
}

/// <summary>
/// One queued request: its plan, its encoded prompts, which of its images have been batched, the finished images and
/// where results and progress go. Its images are numbered k = p·ImagesPerPrompt + i and batched in that order.
/// </summary>
internal sealed class GenerationJob : IDisposable
{
    private readonly GeneratedImage?[] _images;
    private int _finished;
    private long _imageStepsDone;

    public GenerationJob(GenerationPlan plan, float[] contexts, int contextSize, ChannelWriter<GenerationUpdate>? updates, CancellationToken cancellationToken)
    {
        Plan = plan;
        Contexts = contexts;
        ContextSize = contextSize;
        Updates = updates;
        CancellationToken = cancellationToken;
        _images = new GeneratedImage?[plan.ImageCount];
        Enqueued = Stopwatch.GetTimestamp();
    }

    public GenerationPlan Plan { get; }

    /// <summary>The encoded prompts, row-major [Prompts, ContextSize]: managed memory, so a job that ends while a batch is being formed from it cannot leave the engine a disposed tensor.</summary>
    public float[] Contexts { get; }

    /// <summary>Length of one context row.</summary>
    public int ContextSize { get; }

    public ChannelWriter<GenerationUpdate>? Updates { get; }

    public CancellationToken CancellationToken { get; }

    public TaskCompletionSource<GenerationResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Stopwatch timestamp of arrival.</summary>
    public long Enqueued { get; }

    /// <summary>Stopwatch timestamp of the first batch's start; 0 until then.</summary>
    public long Started { get; set; }

    /// <summary>The next image not yet given to a batch (guarded by the batcher's lock).</summary>
    public int NextImage { get; set; }

    /// <summary>Images not yet given to a batch.</summary>
    public int Waiting => Plan.ImageCount - NextImage;

    /// <summary>Whether the request has ended (done, failed or cancelled) or its caller cancelled it.</summary>
    public bool IsOver => Completion.Task.IsCompleted || CancellationToken.IsCancellationRequested;

    /// <summary>Counts image-steps finished and returns the request's fraction done.</summary>
    public double AddImageSteps(int count)
    {
        long done = Interlocked.Add(ref _imageStepsDone, count);
        return Math.Min(1.0, done / ((double)Plan.ImageCount * Plan.Steps));
    }

    /// <summary>Stores finished images; returns true when they were the request's last.</summary>
    public bool AddImages(IReadOnlyList<(int Index, GeneratedImage Image)> images)
    {
        foreach (var (index, image) in images)
        {
            _images[index] = image;
        }

        return Interlocked.Add(ref _finished, images.Count) == _images.Length;
    }

    /// <summary>All images in request order (valid once every image is finished).</summary>
    public IReadOnlyList<GeneratedImage> Images => _images.Select(i => i!).ToArray();

    /// <summary>The cancellation registration that takes the job out of the queue; disposed with the job.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    public void Dispose() => Registration.Dispose();
}
