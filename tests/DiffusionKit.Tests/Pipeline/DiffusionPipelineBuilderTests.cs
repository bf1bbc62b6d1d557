using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

public sealed class DiffusionPipelineBuilderTests
{
    [Fact]
    public void Build_uses_the_configured_parts()
    {
        using var pipeline = TinyPipelines.Builder(seed: 11).UseGuidance(1.5).Build();

        ((ContextUnet)pipeline.Model).Options.Features.Should().Be(8);
        pipeline.Encoder.ContextSize.Should().Be(TinyPipelines.Vocabulary.Length);
        pipeline.Schedule.TrainTimesteps.Should().Be(500);
        pipeline.Defaults.Should().Be(new PipelineDefaults(SamplerKind.Ddim, 3, 1.5, 11));
        pipeline.Model.training.Should().BeFalse("a pipeline's model is in eval mode");
    }

    [Fact]
    public void Default_steps_follow_the_sampler()
    {
        using var byDefault = new DiffusionPipelineBuilder().UseVocabulary("red").UseModel(new ContextUnetOptions { Features = 8, ContextSize = 1 }).Build();
        using var ddim = new DiffusionPipelineBuilder().UseVocabulary("red").UseModel(new ContextUnetOptions { Features = 8, ContextSize = 1 })
            .UseSampler(SamplerKind.Ddim).Build();
        using var ddpm = new DiffusionPipelineBuilder().UseVocabulary("red").UseModel(new ContextUnetOptions { Features = 8, ContextSize = 1 })
            .UseScheduler(new SchedulerOptions { TrainTimesteps = 40 }).UseSampler(SamplerKind.Ddpm).Build();
        using var solver = new DiffusionPipelineBuilder().UseVocabulary("red").UseModel(new ContextUnetOptions { Features = 8, ContextSize = 1 })
            .UseSampler(SamplerKind.DpmSolverMultistepSde).Build();

        byDefault.Defaults.Sampler.Should().Be(SamplerKind.DpmSolverMultistepSde);
        byDefault.Defaults.Steps.Should().Be(20);
        ddim.Defaults.Steps.Should().Be(25);
        ddpm.Defaults.Steps.Should().Be(40);
        solver.Defaults.Steps.Should().Be(20);
    }

    [Fact]
    public void Builder_DI_options_and_CLI_share_one_set_of_defaults()
    {
        using var pipeline = new DiffusionPipelineBuilder().UseVocabulary("red").UseModel(new ContextUnetOptions { Features = 8, ContextSize = 1 }).Build();
        var options = new DiffusionKit.Hosting.DiffusionKitOptions();

        pipeline.Defaults.Should().Be(new PipelineDefaults(SamplerKind.DpmSolverMultistepSde, 20, 3, 0));
        SchedulerNames.ParseSampler(options.Sampler).Should().Be(pipeline.Defaults.Sampler);
        options.GuidanceScale.Should().BeNull("null means the checkpoint's recommendation, else the library default the builder uses");
        pipeline.Defaults.GuidanceScale.Should().Be(PipelineDefaults.DefaultGuidanceScale);
        options.Seed.Should().Be(pipeline.Defaults.Seed);
        options.Steps.Should().BeNull("null means the sampler's default, the same rule the builder uses");
    }

    public static TheoryData<string, Func<DiffusionPipelineBuilder, DiffusionPipelineBuilder>, string> InvalidSettings => new()
    {
        { "steps", b => b.UseSampler(SamplerKind.Ddim, 0), "1..500" },
        { "steps", b => b.UseSampler(SamplerKind.Ddim, 501), "1..500" },
        { "steps", b => b.UseSampler(SamplerKind.Ddpm, 10), "must be 500" },
        { "kind", b => b.UseSampler((SamplerKind)9), "Ddpm, Ddim" },
        { "guidanceScale", b => b.UseGuidance(double.NaN), "within 0..100" },
        { "guidanceScale", b => b.UseGuidance(-1), "within 0..100" },
        { "guidanceScale", b => b.UseGuidance(1e308), "within 0..100" },
        { "threads", b => b.UseThreads(0), "at least 1" },
        { "Features", b => b.UseModel(new ContextUnetOptions { Features = 12, ContextSize = 4 }), "multiple of 8" },
        { "ContextSize", b => b.UseModel(new ContextUnetOptions { Features = 8, ContextSize = 5 }), "ContextSize = 4" },
        { "InChannels", b => b.UseModel(new ContextUnetOptions { Features = 8, ContextSize = 4, InChannels = 2 }), "1 (grey) or 3 (RGB)" },
        { "TrainTimesteps", b => b.UseScheduler(new SchedulerOptions { TrainTimesteps = 0 }), "at least 1" },
        { "BetaEnd", b => b.UseScheduler(new SchedulerOptions { BetaEnd = 1.5 }), "[BetaStart" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Build_rejects_a_bad_setting_naming_it_and_its_allowed_values(string option, Func<DiffusionPipelineBuilder, DiffusionPipelineBuilder> configure, string allowed)
    {
        var builder = configure(TinyPipelines.Builder());

        var thrown = builder.Invoking(b => b.Build()).Should().Throw<ArgumentException>().Which;

        thrown.ParamName.Should().Be(option);
        thrown.Message.Should().Contain(allowed);
    }

    [Fact]
    public void A_failed_build_leaves_the_builder_open_for_a_fix()
    {
        var builder = TinyPipelines.Builder().UseThreads(0);
        builder.Invoking(b => b.Build()).Should().Throw<ArgumentException>();

        using var pipeline = builder.UseThreads(1).Build();

        pipeline.Should().NotBeNull();
    }

    [Fact]
    public void Build_requires_a_text_encoder()
    {
        var builder = new DiffusionPipelineBuilder().UseModel(TinyPipelines.ModelOptions);

        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*UseTextEncoder*FromCheckpoint*");
    }

    [Fact]
    public void Checkpoint_and_explicit_encoder_conflict()
    {
        var builder = new DiffusionPipelineBuilder().FromCheckpoint("/nonexistent").UseVocabulary("red");

        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*FromCheckpoint*UseTextEncoder*");
    }

    [Fact]
    public void Builder_is_locked_after_build()
    {
        var builder = TinyPipelines.Builder();
        using var pipeline = builder.Build();

        builder.Invoking(b => b.UseSeed(1)).Should().Throw<InvalidOperationException>().WithMessage("*UseSeed*after Build()*");
        builder.Invoking(b => b.UseGuidance(1)).Should().Throw<InvalidOperationException>().WithMessage("*UseGuidance*");
        builder.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*Build*");
        builder.Invoking(b => b.BuildTrainer(new DiffusionKit.Training.DiffusionTrainerOptions { Steps = 1 })).Should().Throw<InvalidOperationException>().WithMessage("*BuildTrainer*");
    }

    [Fact]
    public void LoggerFactory_is_the_one_given_to_UseLoggerFactory_for_extensions_to_log_through()
    {
        using var factory = new LoggerFactory();
        var builder = new DiffusionPipelineBuilder();

        builder.LoggerFactory.Should().BeSameAs(NullLoggerFactory.Instance, "nothing is logged unless asked");
        builder.UseLoggerFactory(factory).LoggerFactory.Should().BeSameAs(factory);
        builder.Invoking(b => b.UseLoggerFactory(null!)).Should().Throw<ArgumentNullException>().WithParameterName("loggerFactory");
    }

    [Fact]
    public void UseDevice_rejects_an_unknown_name()
    {
        var builder = TinyPipelines.Builder();

        builder.Invoking(b => b.UseDevice("gpu0")).Should().Throw<ArgumentException>().WithMessage("*cpu*cuda:N*");
    }

    [Fact]
    public async Task Caller_owned_model_is_not_disposed_with_the_pipeline()
    {
        using var model = new ContextUnet(TinyPipelines.ModelOptions, seed: 3);
        var pipeline = new DiffusionPipelineBuilder().UseVocabulary(TinyPipelines.Vocabulary).UseModel(model).Build();

        pipeline.Dispose();

        model.parameters().First().IsInvalid.Should().BeFalse("the caller keeps ownership of a model given to UseModel");
        await pipeline.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["red"] })).Should().ThrowAsync<ObjectDisposedException>();
    }
}
