using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>UseScheduler honours every field of the options it is given, and a caller's own INoiseScheduler samples.</summary>
public sealed class PipelineSchedulerChoiceTests
{
    [Fact]
    public void UseScheduler_sets_the_default_sampler_and_steps_from_the_options()
    {
        using var pipeline = TinyPipelines.Builder().UseScheduler(new SchedulerOptions { TrainTimesteps = 50, Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 7 }).Build();
        using var byDefault = TinyPipelines.Builder().UseScheduler(new SchedulerOptions { TrainTimesteps = 50, Algorithm = SamplerKind.EulerAncestral }).Build();
        using var samplerLast = TinyPipelines.Builder().UseScheduler(new SchedulerOptions { Algorithm = SamplerKind.Ddpm }).UseSampler(SamplerKind.Ddim, 4).Build();

        pipeline.Defaults.Sampler.Should().Be(SamplerKind.DpmSolverMultistep);
        pipeline.Defaults.Steps.Should().Be(7);
        pipeline.Schedule.TrainTimesteps.Should().Be(50);
        byDefault.Defaults.Should().Be(new PipelineDefaults(SamplerKind.EulerAncestral, 20, 3, 7), "null InferenceSteps is the algorithm's default");
        samplerLast.Defaults.Sampler.Should().Be(SamplerKind.Ddim, "the last of UseScheduler and UseSampler chooses the sampler");
        samplerLast.Defaults.Steps.Should().Be(4);
    }

    [Fact]
    public void UseScheduler_steps_that_do_not_fit_name_InferenceSteps()
    {
        var build = () => TinyPipelines.Builder().UseScheduler(new SchedulerOptions { TrainTimesteps = 50, Algorithm = SamplerKind.Ddpm, InferenceSteps = 10 }).Build();

        build.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("InferenceSteps");
    }

    [Fact]
    public async Task A_custom_scheduler_samples_requests_without_a_sampler_at_its_own_steps()
    {
        var training = new SchedulerOptions { PredictionType = PredictionType.VPrediction };
        var custom = SchedulerFactory.Create(training.WithAlgorithm(SamplerKind.Ddim, 4));
        using var withCustom = TinyPipelines.Builder().UseScheduler(training).UseScheduler(custom).UsePrecision(DiffusionKit.Training.Precision.Float32).Build();
        using var builtIn = TinyPipelines.Builder().UseScheduler(training).UseSampler(SamplerKind.Ddim, 4).UsePrecision(DiffusionKit.Training.Precision.Float32).Build();
        using var tooMany = TinyPipelines.Builder().UseScheduler(training).UseSampler(SamplerKind.Ddim, 25).UsePrecision(DiffusionKit.Training.Precision.Float32).Build();
        var request = new GenerationRequest { Prompts = ["red circle"], Seed = 9 };

        var viaCustom = await withCustom.GenerateAsync(request);
        var viaBuiltIn = await builtIn.GenerateAsync(request);
        var via25 = await tooMany.GenerateAsync(request);
        var named = await withCustom.GenerateAsync(new GenerationRequest { Prompts = ["red circle"], Seed = 9, Sampler = SamplerKind.Ddim, Steps = 25 });

        withCustom.Defaults.Scheduler.Should().BeSameAs(custom);
        withCustom.Defaults.Steps.Should().Be(4);
        viaCustom.Images[0].Pixels.ToArray().Should().Equal(viaBuiltIn.Images[0].Pixels.ToArray(), "the custom scheduler is DDIM at 4 steps over the same schedule");
        viaCustom.Images[0].Pixels.ToArray().Should().NotEqual(via25.Images[0].Pixels.ToArray());
        named.Images[0].Pixels.ToArray().Should().Equal(via25.Images[0].Pixels.ToArray(), "a request that names a sampler uses the built-in one");
        await withCustom.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["red"], Steps = 5 })).Should()
            .ThrowAsync<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Steps" && e.Message.Contains("must be 4"));
    }

    [Fact]
    public void A_custom_scheduler_over_another_schedule_is_refused()
    {
        var other = SchedulerFactory.Create(new SchedulerOptions { TrainTimesteps = 100, InferenceSteps = 4 });
        var build = () => TinyPipelines.Builder().UseScheduler(other).Build();

        build.Should().Throw<ArgumentException>().Where(e => e.ParamName == "scheduler" && e.Message.Contains("100 training timesteps") && e.Message.Contains("T = 500"));
    }
}
