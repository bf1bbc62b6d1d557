using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Scheduling;

/// <summary>The timesteps each spacing produces with 1000 training steps, as diffusers computes them.</summary>
public sealed class TimestepSpacingTests
{
    private static INoiseScheduler Create(SamplerKind algorithm, TimestepSpacing spacing, int steps, int offset = 0) => SchedulerFactory.Create(new SchedulerOptions
    {
        Algorithm = algorithm,
        Convention = ScheduleConvention.Diffusers,
        TrainTimesteps = 1000,
        TimestepSpacing = spacing,
        StepsOffset = offset,
        InferenceSteps = steps,
    });

    [Fact]
    public void Ddim_leading_with_steps_offset_1_gives_801_to_1()
    {
        // test_scheduler_ddim.py, DDIMSchedulerTest.test_steps_offset: steps_offset=1, set_timesteps(5) -> [801, 601, 401, 201, 1].
        Create(SamplerKind.Ddim, TimestepSpacing.Leading, 5, offset: 1).Timesteps.Should().Equal(801, 601, 401, 201, 1);
    }

    [Fact]
    public void Ddim_spacings_follow_diffusers_formulas()
    {
        // leading: (arange(10) * (1000 // 10))[::-1]
        Create(SamplerKind.Ddim, TimestepSpacing.Leading, 10).Timesteps.Should().Equal(900, 800, 700, 600, 500, 400, 300, 200, 100, 0);

        // trailing: round(arange(1000, 0, -100)) - 1
        Create(SamplerKind.Ddim, TimestepSpacing.Trailing, 10).Timesteps.Should().Equal(999, 899, 799, 699, 599, 499, 399, 299, 199, 99);

        // linspace: linspace(0, 999, 10).round()[::-1]
        Create(SamplerKind.Ddim, TimestepSpacing.Linspace, 10).Timesteps.Should().Equal(999, 888, 777, 666, 555, 444, 333, 222, 111, 0);

        // trailing with a step count that does not divide T: round(arange(1000, 0, -1000/3)) - 1 = 999, 666, 332.
        Create(SamplerKind.Ddim, TimestepSpacing.Trailing, 3).Timesteps.Should().Equal(999, 666, 332);
    }

    [Fact]
    public void Ddim_steps_back_by_T_over_n_in_diffusers_convention()
    {
        var s = (DdimScheduler)Create(SamplerKind.Ddim, TimestepSpacing.Leading, 10);
        s.PreviousTimestep(900).Should().Be(800);
        s.PreviousTimestep(0).Should().Be(-100, "past timestep 0 the step lands on the final alpha");
    }

    [Fact]
    public void Dpm_solver_spacings_plan_n_plus_1_points()
    {
        // linspace: linspace(0, 999, 11).round()[::-1][:-1]
        Create(SamplerKind.DpmSolverMultistep, TimestepSpacing.Linspace, 10).Timesteps.Should().Equal(999, 899, 799, 699, 599, 500, 400, 300, 200, 100);

        // leading: (arange(0, 11) * (1000 // 11)).round()[::-1][:-1] + steps_offset
        Create(SamplerKind.DpmSolverMultistep, TimestepSpacing.Leading, 10, offset: 1).Timesteps.Should().Equal(901, 811, 721, 631, 541, 451, 361, 271, 181, 91);

        // trailing: as DDIM.
        Create(SamplerKind.DpmSolverMultistep, TimestepSpacing.Trailing, 4).Timesteps.Should().Equal(999, 749, 499, 249);
    }

    [Fact]
    public void Euler_leading_spacing_starts_from_sqrt_of_sigma_max_squared_plus_1()
    {
        var s = (EulerAncestralScheduler)Create(SamplerKind.EulerAncestral, TimestepSpacing.Leading, 10, offset: 1);
        s.Timesteps.Should().Equal(901, 801, 701, 601, 501, 401, 301, 201, 101, 1);
        s.InitNoiseSigma.Should().BeApproximately(Math.Sqrt((s.Sigmas[0] * s.Sigmas[0]) + 1), 1e-12);
        s.Sigmas[^1].Should().Be(0);

        var t = (EulerAncestralScheduler)Create(SamplerKind.EulerAncestral, TimestepSpacing.Trailing, 10);
        t.InitNoiseSigma.Should().Be(t.Sigmas[0]);
        double ab = t.Schedule.AlphaBars[999];
        t.Sigmas[0].Should().BeApproximately(Math.Sqrt((1 - ab) / ab), 1e-12);
    }

    [Fact]
    public void Course_convention_spacings_stay_inside_1_to_T()
    {
        SchedulerFactory.Create(new SchedulerOptions { TimestepSpacing = TimestepSpacing.Leading, InferenceSteps = 5 }).Timesteps.Should().Equal(401, 301, 201, 101, 1);
        SchedulerFactory.Create(new SchedulerOptions { TimestepSpacing = TimestepSpacing.Linspace, InferenceSteps = 5 }).Timesteps.Should().Equal(500, 375, 251, 126, 1);
        SchedulerFactory.Create(new SchedulerOptions { TimestepSpacing = TimestepSpacing.Trailing, InferenceSteps = 5 }).Timesteps.Should().Equal(500, 400, 300, 200, 100);
    }

    [Fact]
    public void A_plan_that_leaves_the_range_fails_instead_of_being_clamped()
    {
        // 500 leading steps with offset 1 would need timestep 501 > T.
        var act = () => SchedulerFactory.Create(new SchedulerOptions { TimestepSpacing = TimestepSpacing.Leading, InferenceSteps = 500, StepsOffset = 1 });
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inferenceSteps" && e.Message.Contains("1..500"));

        // DPM-Solver leading with n = T gives a step ratio of 0 and repeated timesteps.
        var dpm = () => Create(SamplerKind.DpmSolverMultistep, TimestepSpacing.Leading, 1000);
        dpm.Should().Throw<ArgumentOutOfRangeException>().Which.Message.Should().Contain("distinct");
    }
}
