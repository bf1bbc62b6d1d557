using FluentAssertions;
using Xunit;

namespace DiffusionKit.Pipeline.Abstractions.Tests;

/// <summary>
/// A consumer's unit tests against a mocked <see cref="IDiffusionPipeline"/>, in a project that references only the
/// tensor-free contract: they build and run with nothing native and no TorchSharp in the output folder.
/// </summary>
public sealed class ConsumerTests
{
    [Fact]
    public async Task A_service_is_unit_tested_against_a_fake_pipeline()
    {
        var fake = new FakePipeline();
        var service = new ThumbnailService(fake);

        var drawn = await service.DrawAsync("a small red circle", 3, guidance: 2);

        drawn.Should().Be((true, "7,8,9", 3));
        fake.Requests.Should().ContainSingle().Which.GuidanceScale.Should().Be(2);
    }

    [Fact]
    public async Task The_contracts_validation_runs_without_the_engine_and_names_the_field()
    {
        var service = new ThumbnailService(new FakePipeline());

        (await service.DrawAsync("a red circle", 1, guidance: 1e308)).Should().Be((false, nameof(GenerationRequest.GuidanceScale), 0));
        (await service.DrawAsync("a red circle", 0, guidance: null)).Should().Be((false, nameof(GenerationRequest.ImagesPerPrompt), 0));
        GuidanceRange.Contains(GuidanceRange.Max).Should().BeTrue();
        GuidanceRange.Contains(double.NaN).Should().BeFalse();
    }

    [Fact]
    public async Task A_busy_pipeline_is_a_typed_exception_a_consumer_can_handle()
    {
        var busy = new BusyPipeline();
        var drawn = await new ThumbnailService(busy).DrawAsync("a red circle", 1, guidance: null);
        drawn.Should().Be((false, "busy, retry after 2 s", 0));
    }

    [Fact]
    public void Nothing_native_and_no_TorchSharp_is_in_the_output_folder_or_loaded()
    {
        string output = AppContext.BaseDirectory;
        var files = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories).Select(Path.GetFileName).ToList();
        files.Should().Contain("DiffusionKit.Pipeline.Abstractions.dll");
        files.Should().NotContain(f => f!.StartsWith("TorchSharp", StringComparison.OrdinalIgnoreCase), "the contract references no TorchSharp");
        files.Should().NotContain(f => f!.Contains("torch", StringComparison.OrdinalIgnoreCase) || f!.EndsWith(".so", StringComparison.Ordinal) || f!.EndsWith(".dylib", StringComparison.Ordinal),
            "nothing native (libtorch, LibTorchSharp) reaches a consumer that only mocks the pipeline");
        files.Should().NotContain("DiffusionKit.dll").And.NotContain("DiffusionKit.Abstractions.dll");
        AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetName().Name).Should().NotContain(n => n!.StartsWith("TorchSharp", StringComparison.Ordinal));
    }

    private sealed class BusyPipeline : IDiffusionPipeline
    {
        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            throw new PipelineBusyException(queuedImages: 64, requestedImages: 1, maxQueuedImages: 64, retryAfter: TimeSpan.FromSeconds(2));

        public IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            throw new PipelineBusyException(64, 1, 64, TimeSpan.FromSeconds(2));
    }
}
