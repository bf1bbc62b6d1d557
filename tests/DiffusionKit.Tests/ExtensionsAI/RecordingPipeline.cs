namespace DiffusionKit.Tests.ExtensionsAI;

/// <summary>A tensor-free <see cref="IDiffusionPipeline"/> that records the requests and tokens it gets and returns one 1×1 image per requested image.</summary>
internal sealed class RecordingPipeline : IDiffusionPipeline
{
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public List<GenerationRequest> Requests { get; } = new();

    public CancellationToken LastToken { get; private set; }

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        Requests.Add(request);
        LastToken = cancellationToken;
        long seed = request.Seed ?? 0;
        var images = Enumerable.Range(0, request.ImagesPerPrompt)
            .Select(i => new GeneratedImage(request.Prompts[0], 0, i, seed + i, 1, 1, new byte[3], Png))
            .ToList();
        return Task.FromResult(new GenerationResult(images, TimeSpan.Zero));
    }

    public IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, CancellationToken cancellationToken = default)
        => throw new NotSupportedException("The adapter uses GenerateAsync only.");
}
