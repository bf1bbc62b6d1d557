using DiffusionKit.Checkpoints;
using DiffusionKit.Hosting;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.TextEncoders.MiniLM;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DiffusionKit.Tests.TextEncoders;

public sealed class MiniLmRegistrationTests
{
    private static TempDirectory MiniLmCheckpoint()
    {
        var folder = new TempDirectory();
        using var encoder = new MiniLmTextEncoder(prompts => prompts.Select(_ => new float[MiniLmTextEncoder.Dimension]).ToArray());
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = MiniLmTextEncoder.Dimension }, seed: 1);
        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder));
        return folder;
    }

    [Fact]
    public async Task The_builder_loads_a_minilm_checkpoint_once_the_package_is_added()
    {
        using var folder = MiniLmCheckpoint();

        var without = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path);
        without.Invoking(b => b.Build()).Should().Throw<NotSupportedException>().WithMessage("*DiffusionKit.TextEncoders.MiniLM*");

        using var pipeline = new DiffusionPipelineBuilder().AddMiniLmTextEncoder().AddMiniLmTextEncoder()
            .FromCheckpoint(folder.Path).UseSampler(SamplerKind.Ddim, 2).Build();
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["a big red circle"], Seed = 3 });

        pipeline.Encoder.Should().BeOfType<MiniLmTextEncoder>().Which.CachedPrompts.Should().Be(1, "the prompt went through the real MiniLM encoder");
        result.Images.Should().ContainSingle().Which.Width.Should().Be(8);
    }

    [Fact]
    public async Task AddDiffusionKitMiniLm_lets_the_hosted_pipeline_load_a_minilm_checkpoint()
    {
        using var folder = MiniLmCheckpoint();
        var services = new ServiceCollection()
            .AddDiffusionKitMiniLm()
            .AddDiffusionKit(o =>
            {
                o.CheckpointPath = folder.Path;
                o.Steps = 2;
            })
            .AddDiffusionKitMiniLm();

        services.Count(d => d.ImplementationInstance is CheckpointTextEncoderFactory).Should().Be(1, "the registration is idempotent");
        using var provider = services.BuildServiceProvider();
        var pipeline = provider.GetRequiredService<IDiffusionPipeline>();
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["a tiny blue square"], Seed = 1 });

        result.Images.Should().ContainSingle();
        provider.GetRequiredService<DiffusionPipeline>().Encoder.Should().BeOfType<MiniLmTextEncoder>();
    }
}
