using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class DdpmSchedulerTests
{
    [Fact]
    public void Timesteps_walk_T_down_to_1()
    {
        var s = new DdpmScheduler(trainTimesteps: 500);
        s.Timesteps.Should().HaveCount(500);
        s.Timesteps[0].Should().Be(500);
        s.Timesteps[^1].Should().Be(1);
        s.InferenceSteps.Should().Be(500);
    }

    [Theory]
    [InlineData(25)]
    [InlineData(0)]
    [InlineData(501)]
    public void SetTimesteps_other_than_T_fails_and_points_to_DDIM(int steps)
    {
        var s = new DdpmScheduler();
        var act = () => s.SetTimesteps(steps);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inferenceSteps" && e.Message.Contains("DdimScheduler"));
    }

    [Fact]
    public void Step_matches_the_posterior_mean_plus_sqrt_beta_noise_computed_by_hand()
    {
        using var scope = NewDisposeScope();
        var s = new DdpmScheduler();
        var x = tensor(new[] { 0.5f, -0.25f, 1.0f, 0.0f }).view(1, 1, 2, 2);
        var eps = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f }).view(1, 1, 2, 2);
        const int t = 300;
        double beta = 1e-4 + (0.0199 * t / 500);
        double a = 1 - beta;
        double ab = s.Schedule.AlphaBars[t];

        using var g1 = new Generator(42);
        using var result = s.Step(eps, t, x, g1);

        using var g2 = new Generator(42);
        var z = randn(new long[] { 1, 1, 2, 2 }, generator: g2);
        float[] xs = { 0.5f, -0.25f, 1.0f, 0.0f };
        float[] es = { 0.1f, 0.2f, -0.3f, 0.4f };
        float[] zs = z.data<float>().ToArray();
        float[] prev = result.PrevSample.data<float>().ToArray();
        float[] x0 = result.PredictedOriginalSample.data<float>().ToArray();
        for (int i = 0; i < 4; i++)
        {
            double mean = (xs[i] - (es[i] * (1 - a) / Math.Sqrt(1 - ab))) / Math.Sqrt(a);
            prev[i].Should().BeApproximately((float)(mean + (Math.Sqrt(beta) * zs[i])), 1e-5f);
            x0[i].Should().BeApproximately((float)((xs[i] - (Math.Sqrt(1 - ab) * es[i])) / Math.Sqrt(ab)), 1e-4f);
        }
    }

    [Fact]
    public void Last_step_adds_no_noise()
    {
        using var scope = NewDisposeScope();
        var s = new DdpmScheduler();
        var x = full(new long[] { 1, 1, 2, 2 }, 0.3f);
        var eps = full(new long[] { 1, 1, 2, 2 }, 0.1f);
        using var g1 = new Generator(1);
        using var g2 = new Generator(2);

        using var r1 = s.Step(eps, 1, x, g1);
        using var r2 = s.Step(eps, 1, x, g2);

        r1.PrevSample.eq(r2.PrevSample).all().item<bool>().Should().BeTrue("t = 1 is deterministic whatever the generator");
        double a1 = s.Schedule.Alphas[1];
        double ab1 = s.Schedule.AlphaBars[1];
        r1.PrevSample[0, 0, 0, 0].item<float>().Should().BeApproximately((float)((0.3 - (0.1 * (1 - a1) / Math.Sqrt(1 - ab1))) / Math.Sqrt(a1)), 1e-6f);
    }

    [Fact]
    public void Step_rejects_bad_input()
    {
        using var scope = NewDisposeScope();
        var s = new DdpmScheduler();
        var x = zeros(1, 3, 4, 4);
        ((Action)(() => s.Step(zeros(1, 3, 4, 5), 10, x))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("modelOutput");
        ((Action)(() => s.Step(zeros(1, 3, 4, 4), 0, x))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timestep");
        ((Action)(() => s.Step(zeros(1, 3, 4, 4), 501, x))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timestep");
    }
}
