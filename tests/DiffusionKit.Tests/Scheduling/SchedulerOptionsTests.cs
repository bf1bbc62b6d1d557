using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class SchedulerOptionsTests
{
    [Fact]
    public void Default_options_are_the_course_DDIM_bit_for_bit()
    {
        using var scope = NewDisposeScope();
        var fromOptions = SchedulerFactory.Create(new SchedulerOptions());
        var legacy = new DdimScheduler();

        fromOptions.Should().BeOfType<DdimScheduler>();
        fromOptions.TrainTimesteps.Should().Be(500);
        fromOptions.Timesteps.Should().Equal(legacy.Timesteps);
        ((DdimScheduler)fromOptions).Schedule.AlphaBars.Should().Equal(legacy.Schedule.AlphaBars);

        var x = randn(2, 3, 4, 4, generator: new TorchSharp.torch.Generator(1));
        var eps = randn(2, 3, 4, 4, generator: new TorchSharp.torch.Generator(2));
        using var a = fromOptions.Step(eps, 240, x);
        using var b = legacy.Step(eps, 240, x);
        a.PrevSample.eq(b.PrevSample).all().item<bool>().Should().BeTrue();
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm, typeof(DdpmScheduler), 500)]
    [InlineData(SamplerKind.Ddim, typeof(DdimScheduler), 25)]
    [InlineData(SamplerKind.DpmSolverMultistep, typeof(DpmSolverMultistepScheduler), 20)]
    [InlineData(SamplerKind.EulerAncestral, typeof(EulerAncestralScheduler), 20)]
    [InlineData(SamplerKind.DpmSolverMultistepSde, typeof(DpmSolverMultistepScheduler), 20)]
    public void Factory_builds_each_algorithm_over_the_same_schedule(SamplerKind algorithm, Type type, int steps)
    {
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { Algorithm = algorithm });
        scheduler.Should().BeOfType(type);
        scheduler.InferenceSteps.Should().Be(steps);

        // Swapping the algorithm keeps the training schedule, so a trained model needs no retraining.
        var schedule = type.GetProperty("Schedule")!.GetValue(scheduler) as NoiseSchedule;
        schedule!.AlphaBars.Should().Equal(new NoiseSchedule().AlphaBars);
    }

    [Fact]
    public void WithAlgorithm_swaps_the_sampler_and_keeps_every_schedule_setting()
    {
        var trained = new SchedulerOptions
        {
            Algorithm = SamplerKind.Ddpm,
            Convention = ScheduleConvention.Diffusers,
            TrainTimesteps = 1000,
            BetaSchedule = BetaSchedule.SquaredCosCapV2,
            PredictionType = PredictionType.VPrediction,
            ClipSample = true,
        };

        var fast = trained.WithAlgorithm(SamplerKind.DpmSolverMultistep, 20);

        fast.Should().BeEquivalentTo(trained, o => o.Excluding(x => x.Algorithm).Excluding(x => x.InferenceSteps).Excluding(x => x.ResolvedInferenceSteps));
        fast.Algorithm.Should().Be(SamplerKind.DpmSolverMultistep);
        fast.InferenceSteps.Should().Be(20);
        trained.Algorithm.Should().Be(SamplerKind.Ddpm);
        var dpm = (DpmSolverMultistepScheduler)SchedulerFactory.Create(fast);
        var ddpm = (DdpmScheduler)SchedulerFactory.Create(trained);
        dpm.Schedule.AlphaBars.Should().Equal(ddpm.Schedule.AlphaBars);
        dpm.InferenceSteps.Should().Be(20);
    }

    public static TheoryData<SchedulerOptions, string, string> BadOptions => new()
    {
        { new SchedulerOptions { TrainTimesteps = 0 }, "TrainTimesteps", "at least 1" },
        { new SchedulerOptions { BetaStart = 0 }, "BetaStart", "(0, 1)" },
        { new SchedulerOptions { BetaEnd = 1.5 }, "BetaEnd", "1)" },
        { new SchedulerOptions { InferenceSteps = 0 }, "InferenceSteps", "1..500" },
        { new SchedulerOptions { InferenceSteps = 501 }, "InferenceSteps", "1..500" },
        { new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 1001, TrainTimesteps = 1000 }, "InferenceSteps", "1..1000" },
        { new SchedulerOptions { Algorithm = SamplerKind.Ddpm, InferenceSteps = 25 }, "InferenceSteps", "Ddim" },
        { new SchedulerOptions { Eta = -0.5 }, "Eta", "at least 0" },
        { new SchedulerOptions { Eta = double.NaN }, "Eta", "finite" },
        { new SchedulerOptions { SolverOrder = 3 }, "SolverOrder", "1 or 2" },
        { new SchedulerOptions { StepsOffset = -1 }, "StepsOffset", "at least 0" },
        { new SchedulerOptions { ClipSampleRange = 0 }, "ClipSampleRange", "greater than 0" },
        { new SchedulerOptions { BetaSchedule = (BetaSchedule)7 }, "BetaSchedule", "Linear, ScaledLinear, SquaredCosCapV2" },
        { new SchedulerOptions { PredictionType = (PredictionType)9 }, "PredictionType", "Epsilon, VPrediction, Sample" },
        { new SchedulerOptions { Algorithm = (SamplerKind)5 }, "Algorithm", "DpmSolverMultistepSde" },
        { new SchedulerOptions { TimestepSpacing = (TimestepSpacing)(-1) }, "TimestepSpacing", "Linspace" },
        { new SchedulerOptions { Convention = (ScheduleConvention)2 }, "Convention", "Course, Diffusers" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void Bad_options_fail_naming_the_option_and_allowed_values(SchedulerOptions options, string option, string allowed)
    {
        var validate = () => options.Validate();
        validate.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == option && e.Message.Contains(allowed) && e.Message.Contains("SchedulerOptions." + option));
        var create = () => SchedulerFactory.Create(options);
        create.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(option);
    }

    [Fact]
    public void Diffusers_names_round_trip()
    {
        foreach (var value in Enum.GetValues<BetaSchedule>())
        {
            SchedulerNames.ParseBetaSchedule(SchedulerNames.Format(value)).Should().Be(value);
        }

        foreach (var value in Enum.GetValues<PredictionType>())
        {
            SchedulerNames.ParsePredictionType(SchedulerNames.Format(value)).Should().Be(value);
        }

        foreach (var value in Enum.GetValues<TimestepSpacing>())
        {
            SchedulerNames.ParseTimestepSpacing(SchedulerNames.Format(value)).Should().Be(value);
        }

        foreach (var value in Enum.GetValues<SamplerKind>().Where(a => a != SamplerKind.DpmSolverMultistepSde))
        {
            SchedulerNames.ParseSampler(SchedulerNames.Format(value)).Should().Be(value);
        }

        foreach (var value in Enum.GetValues<SamplerKind>())
        {
            SchedulerNames.ParseSampler(SchedulerNames.ShortName(value)).Should().Be(value);
            SchedulerNames.ParseSampler(value.ToString().ToUpperInvariant()).Should().Be(value);
        }

        // diffusers has one class for both DPM-Solver++ variants; algorithm_type tells them apart (SchedulerConfigJsonTests).
        SchedulerNames.Format(SamplerKind.DpmSolverMultistepSde).Should().Be("DPMSolverMultistepScheduler");

        SchedulerNames.ParseBetaSchedule("squaredcos_cap_v2").Should().Be(BetaSchedule.SquaredCosCapV2);
        SchedulerNames.ParseBetaSchedule("scaled_linear").Should().Be(BetaSchedule.ScaledLinear);
        SchedulerNames.ParsePredictionType("v_prediction").Should().Be(PredictionType.VPrediction);
        SchedulerNames.ParseTimestepSpacing("leading").Should().Be(TimestepSpacing.Leading);
        SchedulerNames.ParseVarianceType("fixed_small").Should().Be(VarianceType.FixedSmall);
        SchedulerNames.ParseFinalSigmas("sigma_min").Should().Be(FinalSigmas.SigmaMin);
        SchedulerNames.Format(VarianceType.FixedLarge).Should().Be("fixed_large");
        SchedulerNames.Format(FinalSigmas.Zero).Should().Be("zero");
    }

    [Theory]
    [InlineData("ddim", SamplerKind.Ddim)]
    [InlineData(" Euler-A ", SamplerKind.EulerAncestral)]
    [InlineData("dpm-solver-sde", SamplerKind.DpmSolverMultistepSde)]
    [InlineData("DpmSolverMultistep", SamplerKind.DpmSolverMultistep)]
    [InlineData("ddpmscheduler", SamplerKind.Ddpm)]
    public void Sampler_names_accept_short_enum_and_diffusers_names(string name, SamplerKind expected)
        => SchedulerNames.ParseSampler(name).Should().Be(expected);

    [Theory]
    [InlineData("1")]
    [InlineData("dpm")]
    [InlineData("")]
    public void Unknown_sampler_names_fail_listing_the_short_names(string name)
    {
        SchedulerNames.TryParseSampler(name, out _).Should().BeFalse();
        var act = () => SchedulerNames.ParseSampler(name);
        act.Should().Throw<ArgumentException>().WithMessage("*ddim, ddpm, dpm-solver, euler-a, dpm-solver-sde*");
    }

    [Theory]
    [InlineData("cosine")]
    [InlineData("Linear")]
    [InlineData("")]
    public void Unknown_schedule_names_fail_listing_the_allowed_ones(string name)
    {
        var act = () => SchedulerNames.ParseBetaSchedule(name);
        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains("beta_schedule") && e.Message.Contains("linear, scaled_linear, squaredcos_cap_v2"));
        ((Action)(() => SchedulerNames.ParsePredictionType("eps"))).Should().Throw<ArgumentException>().WithMessage("*epsilon, v_prediction, sample*");
        ((Action)(() => SchedulerNames.ParseTimestepSpacing("even"))).Should().Throw<ArgumentException>().WithMessage("*linspace, leading, trailing*");
        ((Action)(() => SchedulerNames.Format((BetaSchedule)42))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
