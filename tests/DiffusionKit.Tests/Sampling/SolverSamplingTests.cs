using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Sampling;

/// <summary>The sampler with every algorithm: the scheduler contract (init sigma, loop, input scaling, model time) and guidance.</summary>
public sealed class SolverSamplingTests
{
    private static Tensor Context(int batch) => arange(batch * 4, dtype: ScalarType.Float32).view(batch, 4) / 10;

    private static INoiseScheduler Create(SamplerKind algorithm, int steps = 8) => SchedulerFactory.Create(new SchedulerOptions
    {
        Algorithm = algorithm,
        TrainTimesteps = 50,
        InferenceSteps = algorithm == SamplerKind.Ddpm ? 50 : steps,
    });

    /// <summary>The loop written out by hand: what DiffusionSampler must do for an unguided run.</summary>
    private static Tensor HandLoop(IDenoiser model, INoiseScheduler scheduler, Tensor? context, long batch, long seed, double guidance = 0)
    {
        using var g = new Generator((ulong)seed);
        var x = randn(new[] { batch, 3, 8, 8 }, generator: g) * scheduler.InitNoiseSigma;
        using var loop = scheduler.BeginLoop();
        foreach (int t in scheduler.Timesteps)
        {
            var input = scheduler.ScaleModelInput(x, t);
            var time = full(new[] { batch }, (float)(scheduler.GetModelTimestep(t) / scheduler.TrainTimesteps));
            var eps = model.PredictNoise(input, time, context);
            if (guidance > 0)
            {
                var uncond = model.PredictNoise(input, time, null);
                eps = ((1 + guidance) * eps) - (guidance * uncond);
            }

            x = loop.Step(eps, t, x, g).PrevSample;
        }

        return ((x + 1) / 2).clamp(0, 1);
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm)]
    [InlineData(SamplerKind.Ddim)]
    [InlineData(SamplerKind.DpmSolverMultistep)]
    [InlineData(SamplerKind.EulerAncestral)]
    public void Guidance_0_is_plain_conditional_sampling_bit_for_bit(SamplerKind algorithm)
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = Create(algorithm);
        var context = Context(2);

        using var shared = new Generator(21);
        var sampled = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Generator = shared, GuidanceScale = 0 });
        model.LastBatch.Should().Be(2, "w = 0 runs one conditional pass per step, no unconditional half");
        var byHand = HandLoop(model, scheduler, context, 2, 21);

        sampled.eq(byHand).all().item<bool>().Should().BeTrue("w = 0 (diffusers' guidance_scale 1) must equal the unguided loop exactly");
    }

    [Theory]
    [InlineData(SamplerKind.DpmSolverMultistep)]
    [InlineData(SamplerKind.EulerAncestral)]
    public void Guided_sampling_matches_the_guided_formula_with_every_solver(SamplerKind algorithm)
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = Create(algorithm);
        var context = Context(2);

        using var shared = new Generator(4);
        var sampled = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Generator = shared, GuidanceScale = 1.5 });
        model.LastBatch.Should().Be(4);
        var byHand = HandLoop(model, scheduler, context, 2, 4, guidance: 1.5);

        (sampled - byHand).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Euler_ancestral_starts_from_scaled_noise_and_feeds_the_model_scaled_input()
    {
        using var scope = NewDisposeScope();
        var scheduler = Create(SamplerKind.EulerAncestral, steps: 1);
        double abMax = new NoiseSchedule(trainTimesteps: 50).AlphaBars[50];
        scheduler.InitNoiseSigma.Should().BeApproximately(Math.Sqrt((1 - abMax) / abMax), 1e-12, "sigma_max, with trailing spacing");
        var recorder = new RecordingDenoiser();

        new DiffusionSampler().Sample(recorder, scheduler, null, new SamplingOptions { Count = 1, Seed = 2 });

        using var g = new Generator(2);
        var noise = randn(new long[] { 1, 3, 8, 8 }, generator: g);
        double sigma = scheduler.InitNoiseSigma;
        var expectedInput = noise * sigma / Math.Sqrt((sigma * sigma) + 1);
        (recorder.Inputs[0] - expectedInput).abs().max().item<float>().Should().BeLessThan(1e-5f);
        recorder.Times[0].Should().BeApproximately((float)(scheduler.GetModelTimestep(scheduler.Timesteps[0]) / 50), 1e-7f);
        foreach (var input in recorder.Inputs)
        {
            input.Dispose();
        }
    }

    [Fact]
    public void Multistep_sampling_does_not_leak_tensors()
    {
        var model = new ClosedFormDenoiser();
        var scheduler = Create(SamplerKind.DpmSolverMultistep, steps: 12);
        using (new DiffusionSampler().Sample(model, scheduler, null, new SamplingOptions { Count = 2 }))
        {
        }

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var counts = new List<long>();
        var progress = new ActionProgress<SamplingProgress>(_ => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        using (new DiffusionSampler().Sample(model, scheduler, null, new SamplingOptions { Count = 2 }, progress))
        {
        }

        counts.Max().Should().BeLessThanOrEqualTo(counts[1], "the loop keeps one x0 history tensor, not one per step");
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "disposing the loop releases its history");
    }

    /// <summary>Records the inputs and times the sampler passes; predicts zero noise.</summary>
    private sealed class RecordingDenoiser : IDenoiser
    {
        public int Channels => 3;

        public int ImageSize => 8;

        public int ContextSize => 4;

        public Device Device => CPU;

        public List<Tensor> Inputs { get; } = new();

        public List<float> Times { get; } = new();

        public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context)
        {
            Inputs.Add(sample.clone().DetachFromDisposeScope());
            Times.Add(time[0].item<float>());
            return zeros_like(sample);
        }
    }
}
