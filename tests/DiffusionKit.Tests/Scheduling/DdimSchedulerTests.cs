using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class DdimSchedulerTests
{
    [Fact]
    public void Course_spacing_is_every_20th_timestep_for_25_steps()
    {
        var s = new DdimScheduler(inferenceSteps: 25);
        s.Timesteps.Should().Equal(Enumerable.Range(1, 25).Select(i => i * 20).Reverse());
        s.PreviousTimestep(500).Should().Be(480);
        s.PreviousTimestep(20).Should().Be(0);
    }

    [Fact]
    public void Uneven_step_counts_give_distinct_descending_timesteps()
    {
        var s = new DdimScheduler(inferenceSteps: 7);
        s.Timesteps.Should().Equal(500, 429, 358, 286, 215, 143, 72);
        s.SetTimesteps(500);
        s.Timesteps.Should().Equal(Enumerable.Range(1, 500).Reverse());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    [InlineData(-3)]
    public void Step_counts_outside_1_to_T_fail(int steps)
    {
        var act = () => new DdimScheduler(inferenceSteps: steps);
        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "inferenceSteps" && e.Message.Contains("1..500"));
    }

    [Fact]
    public void Step_matches_the_course_formula_by_hand()
    {
        using var scope = NewDisposeScope();
        var s = new DdimScheduler(inferenceSteps: 25);
        var x = tensor(new[] { 0.5f, -0.25f }).view(1, 1, 1, 2);
        var eps = tensor(new[] { 0.1f, -0.7f }).view(1, 1, 1, 2);
        double ab = s.Schedule.AlphaBars[240];
        double abPrev = s.Schedule.AlphaBars[220];

        using var r = s.Step(eps, 240, x);

        float[] prev = r.PrevSample.data<float>().ToArray();
        float[] xs = { 0.5f, -0.25f };
        float[] es = { 0.1f, -0.7f };
        for (int i = 0; i < 2; i++)
        {
            double expected = (Math.Sqrt(abPrev) / Math.Sqrt(ab) * (xs[i] - (Math.Sqrt(1 - ab) * es[i]))) + (Math.Sqrt(1 - abPrev) * es[i]);
            prev[i].Should().BeApproximately((float)expected, 1e-5f);
        }
    }

    [Fact]
    public void Final_step_returns_the_predicted_clean_sample()
    {
        using var scope = NewDisposeScope();
        var s = new DdimScheduler(inferenceSteps: 25);
        var x = tensor(new[] { 0.5f, -0.25f }).view(1, 1, 1, 2);
        var eps = tensor(new[] { 0.1f, -0.7f }).view(1, 1, 1, 2);

        using var r = s.Step(eps, 20, x);

        (r.PrevSample - r.PredictedOriginalSample).abs().max().item<float>().Should().BeLessThan(1e-6f);
    }

    [Fact]
    public void Step_at_an_unscheduled_timestep_fails()
    {
        using var scope = NewDisposeScope();
        var s = new DdimScheduler(inferenceSteps: 25);
        var act = () => s.Step(zeros(1, 1, 2, 2), 21, zeros(1, 1, 2, 2));
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timestep");
    }
}
