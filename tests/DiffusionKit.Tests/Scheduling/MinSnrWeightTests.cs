using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class MinSnrWeightTests
{
    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    [InlineData(PredictionType.Sample)]
    public void Weights_follow_the_min_snr_rule_for_each_prediction_type(PredictionType prediction)
    {
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { PredictionType = prediction });
        var alphaBars = new NoiseSchedule().AlphaBars;
        long[] steps = { 1, 40, 100, 250, 500 };

        using var weights = scheduler.GetMinSnrLossWeights(tensor(steps), 5.0);

        float[] actual = weights.data<float>().ToArray();
        actual.Should().HaveCount(steps.Length);
        for (int i = 0; i < steps.Length; i++)
        {
            // SNR = ab/(1 - ab), computed here from the schedule's published alpha-bars (Hang et al. 2023, eq. for each target).
            double snr = alphaBars[(int)steps[i]] / (1 - alphaBars[(int)steps[i]]);
            double expected = prediction switch
            {
                PredictionType.Epsilon => Math.Min(snr, 5) / snr,
                PredictionType.VPrediction => Math.Min(snr, 5) / (snr + 1),
                _ => Math.Min(snr, 5),
            };
            ((double)actual[i]).Should().BeApproximately(expected, 1e-6 * Math.Max(1, expected), $"t = {steps[i]}");
        }

        // Spot values: at t = 1 the SNR is about 5,000, so epsilon's weight is about 1e-3; at t = 500 (SNR ≈ 0.0067) it is 1.
        if (prediction == PredictionType.Epsilon)
        {
            actual[0].Should().BeInRange(5e-4f, 2e-3f);
            actual[4].Should().Be(1f);
        }
    }

    [Fact]
    public void Bad_gamma_and_timesteps_are_rejected()
    {
        var schedule = new NoiseSchedule();

        var nanGamma = () => schedule.MinSnrLossWeights(PredictionType.Epsilon, tensor(new long[] { 1 }), double.NaN);
        var zeroGamma = () => schedule.MinSnrLossWeights(PredictionType.Epsilon, tensor(new long[] { 1 }), 0);
        var outOfRange = () => schedule.MinSnrLossWeights(PredictionType.Epsilon, tensor(new long[] { 0, 501 }), 5);
        var wrongType = () => schedule.MinSnrLossWeights(PredictionType.Epsilon, tensor(new float[] { 1f }), 5);

        nanGamma.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma");
        zeroGamma.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("gamma");
        outOfRange.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timesteps");
        wrongType.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("timesteps");
    }

    [Fact]
    public void A_scheduler_without_a_schedule_says_it_does_not_support_min_snr()
    {
        INoiseScheduler custom = new NoSnrScheduler();

        var act = () => custom.GetMinSnrLossWeights(tensor(new long[] { 1 }), 5);

        act.Should().Throw<NotSupportedException>().WithMessage("*NoSnrScheduler*SnrGamma*");
    }

    private sealed class NoSnrScheduler : INoiseScheduler
    {
        public int TrainTimesteps => 10;

        public int InferenceSteps => 10;

        public IReadOnlyList<int> Timesteps => Enumerable.Range(1, 10).Reverse().ToArray();

        public void SetTimesteps(int inferenceSteps)
        {
        }

        public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => originalSamples + noise;

        public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise) =>
            new(sample.alias(), sample.alias());
    }
}
