using System.Runtime.CompilerServices;

namespace DiffusionKit.Pipeline.Abstractions.Tests;

/// <summary>
/// What a consumer writes to unit-test code that depends on <see cref="IDiffusionPipeline"/>: canned 1×1 images, the
/// requests it was given, and the contract's own validation (<see cref="GenerationRequest.Validate"/>).
/// </summary>
internal sealed class FakePipeline : IDiffusionPipeline
{
    public List<GenerationRequest> Requests { get; } = [];

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        request.Validate();
        cancellationToken.ThrowIfCancellationRequested();
        Requests.Add(request);
        var images = request.Prompts.SelectMany((prompt, p) => Enumerable.Range(0, request.ImagesPerPrompt)
            .Select(i => new GeneratedImage(prompt, p, i, (request.Seed ?? 0) + (p * request.ImagesPerPrompt) + i, 1, 1, new byte[] { 255, 0, 0 }, new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })))
            .ToList();
        return Task.FromResult(new GenerationResult(images, TimeSpan.FromMilliseconds(1)));
    }

    public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var result = await GenerateAsync(request, cancellationToken);
        yield return new GenerationUpdate(new GenerationProgress(0, request.Prompts.Count, 1, 1), result.Images);
    }
}
