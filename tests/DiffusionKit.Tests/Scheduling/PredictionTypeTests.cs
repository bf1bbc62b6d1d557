using DiffusionKit.Scheduling;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class PredictionTypeTests
{
    private static readonly long[] Shape = { 3, 2, 2, 2 };

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void Training_target_is_noise_x0_or_v(PredictionType prediction)
    {
        using var scope = NewDisposeScope();
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { PredictionType = prediction });
        using var g = new Generator(3);
        var x0 = rand(Shape, generator: g) * 2 - 1;
        var noise = randn(Shape, generator: g);
        var t = tensor(new long[] { 1, 250, 500 });

        var target = scheduler.GetTrainingTarget(x0, noise, t);

        var ab = new NoiseSchedule().AlphaBars;
        int[] ts = { 1, 250, 500 };
        for (int i = 0; i < 3; i++)
        {
            var expected = prediction switch
            {
                PredictionType.Epsilon => noise[i],
                PredictionType.Sample => x0[i],
                _ => (Math.Sqrt(ab[ts[i]]) * noise[i]) - (Math.Sqrt(1 - ab[ts[i]]) * x0[i]),
            };
            (target[i] - expected).abs().max().item<float>().Should().BeLessThan(1e-6f);
        }
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm)]
    [InlineData(SamplerKind.Ddim)]
    [InlineData(SamplerKind.DpmSolverMultistep)]
    [InlineData(SamplerKind.EulerAncestral)]
    public void A_perfect_model_of_each_prediction_type_recovers_x0_at_the_first_step(SamplerKind algorithm)
    {
        // Given the exact target of each prediction type for a known (x0, noise), every scheduler predicts the same x0.
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        var x0 = (rand(Shape, generator: g) * 2) - 1;
        var noise = randn(Shape, generator: g);
        foreach (var prediction in Enum.GetValues<PredictionType>())
        {
            var scheduler = SchedulerFactory.Create(new SchedulerOptions { Algorithm = algorithm, PredictionType = prediction, InferenceSteps = algorithm == SamplerKind.Ddpm ? null : 10 });
            int t = scheduler.Timesteps[0];
            var ts = full(new long[] { 3 }, t, dtype: ScalarType.Int64);
            var xt = scheduler.AddNoise(x0, noise, ts);
            var target = scheduler.GetTrainingTarget(x0, noise, ts);
            // Euler works in sigma space, on x_t / sqrt(ab_t); the others on x_t.
            var sample = algorithm == SamplerKind.EulerAncestral ? xt / Math.Sqrt(new NoiseSchedule().AlphaBars[t]) : xt;

            using var loop = scheduler.BeginLoop();
            using var result = loop.Step(target, t, sample, g);
            (result.PredictedOriginalSample - x0).abs().max().item<float>().Should().BeLessThan(2e-3f, $"{algorithm} {prediction}");
        }
    }
}
