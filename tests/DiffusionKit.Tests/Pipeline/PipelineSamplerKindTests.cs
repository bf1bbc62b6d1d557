using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>Every sampler kind is selectable per pipeline and per request.</summary>
public sealed class PipelineSamplerKindTests
{
    [Theory]
    [InlineData(SamplerKind.Ddim, 4)]
    [InlineData(SamplerKind.DpmSolverMultistep, 4)]
    [InlineData(SamplerKind.EulerAncestral, 4)]
    [InlineData(SamplerKind.Ddpm, 500)]
    public async Task Each_sampler_kind_generates_reproducible_images(SamplerKind kind, int steps)
    {
        using var pipeline = TinyPipelines.Builder(seed: 3).Build();
        var request = new GenerationRequest { Prompts = ["red circle"], Sampler = kind, Steps = steps, GuidanceScale = 1 };

        var first = await pipeline.GenerateAsync(request);
        var second = await pipeline.GenerateAsync(request);

        first.Images.Should().ContainSingle();
        first.Images[0].Pixels.ToArray().Should().Equal(second.Images[0].Pixels.ToArray());
    }

    [Fact]
    public async Task Steps_that_do_not_fit_the_sampler_are_rejected_naming_Steps()
    {
        using var pipeline = TinyPipelines.Builder().Build();
        var act = () => pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], Sampler = SamplerKind.DpmSolverMultistep, Steps = 501 });
        (await act.Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.ParamName.Should().Be("Steps");
    }
}
