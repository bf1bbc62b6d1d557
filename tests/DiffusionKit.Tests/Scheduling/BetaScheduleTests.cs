using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Scheduling;

/// <summary>Schedule values at chosen indices, computed independently from diffusers' formulas
/// (src/diffusers/schedulers/scheduling_ddpm.py: torch.linspace for linear, linspace of square roots squared for
/// scaled_linear, betas_for_alpha_bar with cos((t + 0.008)/1.008·pi/2)^2 for squaredcos_cap_v2).</summary>
public sealed class BetaScheduleTests
{
    private static NoiseSchedule Diffusers(BetaSchedule schedule, double start = 0.0001, double end = 0.02)
        => new(new SchedulerOptions { Convention = ScheduleConvention.Diffusers, TrainTimesteps = 1000, BetaStart = start, BetaEnd = end, BetaSchedule = schedule });

    [Fact]
    public void Diffusers_linear_has_T_betas_from_start_to_end_and_a_plain_cumulative_product()
    {
        var s = Diffusers(BetaSchedule.Linear);
        s.Betas.Should().HaveCount(1000);
        s.FirstTimestep.Should().Be(0);
        s.LastTimestep.Should().Be(999);
        s.Betas[0].Should().Be(0.0001);
        s.Betas[999].Should().BeApproximately(0.02, 1e-15);
        s.Betas[500].Should().BeApproximately(0.0001 + (0.0199 * 500 / 999), 1e-15);
        s.AlphaBars[0].Should().BeApproximately(1 - 0.0001, 1e-15, "alphas_cumprod[0] = 1 - beta_0, no ab_0 = 1 override");

        double product = 1;
        for (int t = 0; t < 1000; t++)
        {
            product *= 1 - (0.0001 + (0.0199 * t / 999));
        }

        s.AlphaBars[999].Should().BeApproximately(product, 1e-12);
        s.AlphaBars[999].Should().BeApproximately(4.04e-5, 1e-6, "sqrt(ab_999) ~ 0.0064: almost pure noise at t = 999");
    }

    [Fact]
    public void Scaled_linear_squares_evenly_spaced_square_roots()
    {
        // Stable Diffusion's schedule: beta_start 0.00085, beta_end 0.012, scaled_linear.
        var s = Diffusers(BetaSchedule.ScaledLinear, 0.00085, 0.012);
        foreach (int t in new[] { 0, 1, 250, 999 })
        {
            double root = Math.Sqrt(0.00085) + ((Math.Sqrt(0.012) - Math.Sqrt(0.00085)) * t / 999);
            s.Betas[t].Should().BeApproximately(root * root, 1e-15, $"beta_{t}");
        }

        s.Betas[999].Should().BeApproximately(0.012, 1e-15);
        s.Betas[500].Should().BeLessThan(0.00085 + ((0.012 - 0.00085) * 500 / 999), "the square of a linear ramp sags below the linear ramp");
    }

    [Fact]
    public void Squaredcos_cap_v2_follows_the_cosine_alpha_bar_and_caps_at_0_999()
    {
        var s = Diffusers(BetaSchedule.SquaredCosCapV2);
        static double F(double x) => Math.Pow(Math.Cos((x + 0.008) / 1.008 * Math.PI / 2), 2);
        foreach (int t in new[] { 0, 100, 500, 900 })
        {
            s.Betas[t].Should().BeApproximately(1 - (F((t + 1) / 1000.0) / F(t / 1000.0)), 1e-15, $"beta_{t}");
        }

        s.Betas[999].Should().Be(0.999, "the last beta would be 1 and is capped");
        s.Betas[0].Should().BeApproximately(4.1e-5, 1e-6);

        // ab_t tracks f(t/T)/f(0) closely, which is the point of the cosine schedule.
        s.AlphaBars[499].Should().BeApproximately(F(500 / 1000.0) / F(0), 1e-9);
    }

    [Fact]
    public void Course_convention_keeps_T_plus_1_betas_for_every_schedule()
    {
        var scaled = new NoiseSchedule(new SchedulerOptions { BetaSchedule = BetaSchedule.ScaledLinear });
        scaled.Betas.Should().HaveCount(501);
        scaled.AlphaBars[0].Should().Be(1.0);
        scaled.Betas[500].Should().BeApproximately(0.02, 1e-15);
        double root = Math.Sqrt(1e-4) + ((Math.Sqrt(0.02) - Math.Sqrt(1e-4)) * 250 / 500);
        scaled.Betas[250].Should().BeApproximately(root * root, 1e-15);

        var cosine = new NoiseSchedule(new SchedulerOptions { BetaSchedule = BetaSchedule.SquaredCosCapV2 });
        cosine.Betas.Should().HaveCount(501);
        cosine.AlphaBars[0].Should().Be(1.0);
        cosine.AlphaBars.Skip(1).Should().BeInDescendingOrder();
    }
}
