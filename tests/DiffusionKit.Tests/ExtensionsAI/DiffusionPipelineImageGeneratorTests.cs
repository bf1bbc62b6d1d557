#pragma warning disable MEAI001 // IImageGenerator is experimental in Microsoft.Extensions.AI; the adapter under test implements it.
using System.Text.Json;
using DiffusionKit.Extensions.AI;
using DiffusionKit.Tests.Pipeline;
using FluentAssertions;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DiffusionKit.Tests.ExtensionsAI;

/// <summary>A DiffusionKit pipeline behind Microsoft.Extensions.AI's IImageGenerator.</summary>
public sealed class DiffusionPipelineImageGeneratorTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task A_prompt_gives_png_data_contents_from_a_real_pipeline_reproducible_by_seed()
    {
        using var pipeline = TinyPipelines.Builder().Build();
        using var generator = pipeline.AsImageGenerator();
        var options = new ImageGenerationOptions { Count = 2, AdditionalProperties = new() { [ImageGenerationProperties.Seed] = 5L } };

        var response = await generator.GenerateImagesAsync("red circle", options);
        var again = await generator.GenerateImagesAsync("red circle", options);

        response.Contents.Should().HaveCount(2).And.AllBeOfType<DataContent>();
        var first = (DataContent)response.Contents[0];
        first.MediaType.Should().Be("image/png");
        first.Data.ToArray().Take(8).Should().Equal(PngSignature);
        first.AdditionalProperties![ImageGenerationProperties.Seed].Should().Be(((GenerationResult)response.RawRepresentation!).Images[0].Seed);
        ((DataContent)again.Contents[1]).Data.ToArray().Should().Equal(((DataContent)response.Contents[1]).Data.ToArray(), "the same seed gives the same image");
        ((DataContent)response.Contents[1]).Data.ToArray().Should().NotEqual(first.Data.ToArray(), "the images of one request differ");
    }

    [Fact]
    public async Task Count_and_additional_properties_map_onto_the_request()
    {
        var pipeline = new RecordingPipeline();
        using var generator = new DiffusionPipelineImageGenerator(pipeline);

        await generator.GenerateAsync(new ImageGenerationRequest("blue square"), new ImageGenerationOptions
        {
            Count = 3,
            AdditionalProperties = new()
            {
                [ImageGenerationProperties.Seed] = 42,
                [ImageGenerationProperties.Steps] = "12",
                [ImageGenerationProperties.GuidanceScale] = 2.5,
                [ImageGenerationProperties.Sampler] = "dpm-solver-sde",
                ["quality"] = "hd",
            },
        });
        var fromJson = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>("""{ "seed": 7, "steps": 4, "guidance_scale": 0, "sampler": "DDIMScheduler" }""")!;
        await generator.GenerateAsync(new ImageGenerationRequest("red"), new ImageGenerationOptions { AdditionalProperties = new(fromJson.ToDictionary(p => p.Key, p => (object?)p.Value)) });
        await generator.GenerateAsync(new ImageGenerationRequest("red"));

        var mapped = pipeline.Requests[0];
        mapped.Prompts.Should().Equal("blue square");
        (mapped.ImagesPerPrompt, mapped.Seed, mapped.Steps, mapped.GuidanceScale, mapped.Sampler).Should().Be((3, 42L, 12, 1.5, SamplerKind.DpmSolverMultistepSde), "guidance_scale is diffusers' s = 2.5, DiffusionKit's weight w = s − 1");
        var json = pipeline.Requests[1];
        (json.ImagesPerPrompt, json.Seed, json.Steps, json.GuidanceScale, json.Sampler).Should().Be((1, 7L, 4, 0.0, SamplerKind.Ddim), "s ≤ 1 turns guidance off, as in diffusers");
        var defaults = pipeline.Requests[2];
        (defaults.ImagesPerPrompt, defaults.Seed, defaults.Steps, defaults.GuidanceScale, defaults.Sampler).Should().Be((1, (long?)null, (int?)null, (double?)null, (SamplerKind?)null), "absent options leave the pipeline's defaults");
    }

    public static TheoryData<string, ImageGenerationOptions, string> BadOptions => new()
    {
        { "count", new ImageGenerationOptions { Count = 0 }, "Count must be at least 1" },
        { "seed", new ImageGenerationOptions { AdditionalProperties = new() { ["seed"] = "soon" } }, "[\"seed\"]*integer" },
        { "steps", new ImageGenerationOptions { AdditionalProperties = new() { ["steps"] = 0 } }, "[\"steps\"]*1..2147483647" },
        { "guidance", new ImageGenerationOptions { AdditionalProperties = new() { ["guidance_scale"] = double.NaN } }, "[\"guidance_scale\"]*within 0..101*s − 1" },
        { "guidance", new ImageGenerationOptions { AdditionalProperties = new() { ["guidance_scale"] = 1e308 } }, "[\"guidance_scale\"]*within 0..101*s − 1" },
        { "sampler", new ImageGenerationOptions { AdditionalProperties = new() { ["sampler"] = "heun" } }, "[\"sampler\"]*ddim, ddpm, dpm-solver" },
        { "model", new ImageGenerationOptions { ModelId = "dall-e-3" }, "ModelId 'dall-e-3'" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task Bad_options_fail_naming_the_option(string what, ImageGenerationOptions options, string message)
    {
        var pipeline = new RecordingPipeline();
        using var generator = new DiffusionPipelineImageGenerator(pipeline);

        var act = () => generator.GenerateAsync(new ImageGenerationRequest("red"), options);

        (await act.Should().ThrowAsync<ArgumentException>(what)).WithMessage($"*{message}*");
        pipeline.Requests.Should().BeEmpty("nothing is generated for a bad request");
    }

    [Fact]
    public async Task What_DiffusionKit_cannot_do_is_refused_not_ignored()
    {
        using var generator = new DiffusionPipelineImageGenerator(new RecordingPipeline());
        var edit = new ImageGenerationRequest("red", [new DataContent(PngSignature, "image/png")]);

        await generator.Invoking(g => g.GenerateAsync(edit)).Should().ThrowAsync<NotSupportedException>().WithMessage("*editing*");
        await generator.Invoking(g => g.GenerateAsync(new ImageGenerationRequest("red"), new ImageGenerationOptions { MediaType = "image/jpeg" }))
            .Should().ThrowAsync<NotSupportedException>().WithMessage("*image/jpeg*image/png*");
        await generator.Invoking(g => g.GenerateAsync(new ImageGenerationRequest("red"), new ImageGenerationOptions { ResponseFormat = ImageGenerationResponseFormat.Uri }))
            .Should().ThrowAsync<NotSupportedException>().WithMessage("*ResponseFormat*");
        await generator.Invoking(g => g.GenerateAsync(new ImageGenerationRequest("  "))).Should().ThrowAsync<ArgumentException>().WithMessage("*Prompt is required*");
    }

    [Fact]
    public async Task Cancellation_reaches_the_pipeline_and_stops_generation()
    {
        var recording = new RecordingPipeline();
        using var cts = new CancellationTokenSource();
        await new DiffusionPipelineImageGenerator(recording).GenerateAsync(new ImageGenerationRequest("red"), null, cts.Token);
        recording.LastToken.Should().Be(cts.Token);

        using var pipeline = TinyPipelines.Builder().Build();
        using var generator = pipeline.AsImageGenerator();
        await cts.CancelAsync();

        await generator.Invoking(g => g.GenerateImagesAsync("red", null, cts.Token)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public void Metadata_and_services_are_reachable_through_GetService()
    {
        var pipeline = new RecordingPipeline();
        using IImageGenerator generator = pipeline.AsImageGenerator("shapes-v1");

        var metadata = generator.GetService<ImageGeneratorMetadata>()!;
        (metadata.ProviderName, metadata.DefaultModelId).Should().Be(("diffusionkit", "shapes-v1"));
        generator.GetService<IDiffusionPipeline>().Should().BeSameAs(pipeline);
        generator.GetService<DiffusionPipelineImageGenerator>().Should().BeSameAs(generator);
        generator.GetService(typeof(IDiffusionPipeline), "key").Should().BeNull();
    }

    [Fact]
    public void The_DI_registration_wraps_the_registered_pipeline_once()
    {
        var pipeline = new RecordingPipeline();
        using var provider = new ServiceCollection()
            .AddSingleton<IDiffusionPipeline>(pipeline)
            .AddDiffusionKitImageGenerator()
            .AddDiffusionKitImageGenerator()
            .BuildServiceProvider();

        var generator = provider.GetRequiredService<IImageGenerator>();

        generator.GetService<IDiffusionPipeline>().Should().BeSameAs(pipeline);
        provider.GetServices<IImageGenerator>().Should().ContainSingle();
    }
}
