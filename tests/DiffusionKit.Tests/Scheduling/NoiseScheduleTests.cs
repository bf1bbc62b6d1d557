using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class NoiseScheduleTests
{
    [Fact]
    public void Course_schedule_matches_closed_form_values()
    {
        var s = new NoiseSchedule();

        s.Betas.Should().HaveCount(501);
        s.Betas[0].Should().BeApproximately(1e-4, 1e-15);
        s.Betas[500].Should().BeApproximately(0.02, 1e-15);
        s.Betas[250].Should().BeApproximately(1e-4 + (0.0199 * 0.5), 1e-15);
        s.AlphaBars[0].Should().Be(1.0);

        // ab_1 = a_0·a_1 (the course's cumsum includes t = 0, then overwrites ab_0 with 1).
        s.AlphaBars[1].Should().BeApproximately((1 - 1e-4) * (1 - (1e-4 + (0.0199 / 500))), 1e-15);

        // ab_t = prod_{k=0..t} (1 - beta_k), computed independently.
        double product = 1;
        for (int k = 0; k <= 500; k++)
        {
            product *= 1 - (1e-4 + (0.0199 * k / 500));
            if (k is 10 or 100 or 499 or 500)
            {
                s.AlphaBars[k].Should().BeApproximately(product, 1e-12 * product, $"ab_{k}");
            }
        }

        s.AlphaBars[500].Should().BeApproximately(6.2888e-3, 1e-6, "about 0.63% of the signal variance survives at t = T");
    }

    [Theory]
    [InlineData(0, 1e-4, 0.02, "trainTimesteps")]
    [InlineData(500, 0, 0.02, "betaStart")]
    [InlineData(500, 0.02, 0.01, "betaEnd")]
    [InlineData(500, 1e-4, 1.0, "betaEnd")]
    public void Bad_schedule_arguments_name_the_parameter(int t, double b1, double b2, string parameter)
    {
        var act = () => new NoiseSchedule(t, b1, b2);
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(parameter);
    }

    [Fact]
    public void AddNoise_is_sqrt_ab_x0_plus_sqrt_one_minus_ab_eps()
    {
        using var scope = NewDisposeScope();
        var scheduler = new DdpmScheduler();
        using var g = new Generator(7);
        var x0 = rand(new long[] { 3, 3, 4, 4 }, generator: g) * 2 - 1;
        var eps = randn(new long[] { 3, 3, 4, 4 }, generator: g);
        var t = tensor(new long[] { 1, 250, 500 });

        var xt = scheduler.AddNoise(x0, eps, t);

        var ab = scheduler.Schedule.AlphaBars;
        var ts = new[] { 1, 250, 500 };
        for (int i = 0; i < 3; i++)
        {
            var expected = (Math.Sqrt(ab[ts[i]]) * x0[i]) + (Math.Sqrt(1 - ab[ts[i]]) * eps[i]);
            (xt[i] - expected).abs().max().item<float>().Should().BeLessThan(1e-6f);
        }

        // Not the course's bug (1 - ab without sqrt): at t = 250 the two differ clearly.
        var buggy = (Math.Sqrt(ab[250]) * x0[1]) + ((1 - ab[250]) * eps[1]);
        (xt[1] - buggy).abs().max().item<float>().Should().BeGreaterThan(0.01f);
    }

    [Fact]
    public void AddNoise_rejects_bad_timesteps_and_shapes()
    {
        using var scope = NewDisposeScope();
        var scheduler = new DdpmScheduler();
        var x0 = zeros(2, 3, 4, 4);
        var eps = zeros(2, 3, 4, 4);

        ((Action)(() => scheduler.AddNoise(x0, eps, tensor(new long[] { 0, 3 })))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timesteps");
        ((Action)(() => scheduler.AddNoise(x0, eps, tensor(new long[] { 1, 501 })))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*1..500*");
        ((Action)(() => scheduler.AddNoise(x0, eps, tensor(new long[] { 1 })))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("timesteps");
        ((Action)(() => scheduler.AddNoise(x0, eps, tensor(new[] { 1f, 2f })))).Should().Throw<ArgumentException>().WithMessage("*int64*");
        ((Action)(() => scheduler.AddNoise(x0, zeros(2, 3, 4, 5), tensor(new long[] { 1, 2 })))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("noise");
    }
}
