using DiffusionKit.Scheduling;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

/// <summary>
/// Parity with diffusers: full deterministic loops with diffusers' closed-form test model on its arange sample, checked
/// against the sums and means published in huggingface/diffusers tests/schedulers (within the same tolerances: 1e-2 on
/// the sum, 1e-3 on the mean).
/// </summary>
public sealed class DiffusersGoldenTests
{
    /// <summary>diffusers tests/schedulers/test_schedulers.py, SchedulerCommonTest.dummy_sample_deter:
    /// arange(4·3·8·8).reshape(3, 8, 8, 4) / num_elems, permuted to (4, 3, 8, 8).</summary>
    private static Tensor DummySampleDeter()
    {
        const long elements = 4 * 3 * 8 * 8;
        return (arange(elements, dtype: ScalarType.Int64).reshape(3, 8, 8, 4) / (double)elements).to(ScalarType.Float32).permute(3, 0, 1, 2).contiguous();
    }

    /// <summary>diffusers SchedulerCommonTest.dummy_model: <c>sample * t / (t + 1)</c> with the raw timestep t.</summary>
    private static Tensor DummyModel(Tensor sample, double t) => sample * t / (t + 1);

    private static (double Sum, double Mean) SumAndMeanOfAbs(Tensor sample)
    {
        using var abs = sample.abs();
        return (abs.sum().item<float>(), abs.mean().item<float>());
    }

    [Fact]
    public void TorchSharp_generator_reproduces_PyTorch_manual_seed_0()
    {
        // PyTorch 1.13 (/usr/bin/python3 here): torch.manual_seed(0); torch.randn(4, 3, 8, 8).flatten()[:3] and [-1]
        // = -1.1258398294448853, -1.152360200881958, -0.2505785822868347, ..., -0.23261602222919464.
        // The DDPM and Euler ancestral goldens below draw their noise from this stream.
        using var scope = NewDisposeScope();
        using var g = new Generator(0);
        var x = randn(new long[] { 4, 3, 8, 8 }, generator: g).flatten();
        x[0].item<float>().Should().BeApproximately(-1.1258398f, 1e-6f);
        x[1].item<float>().Should().BeApproximately(-1.1523602f, 1e-6f);
        x[2].item<float>().Should().BeApproximately(-0.25057858f, 1e-6f);
        x[-1].item<float>().Should().BeApproximately(-0.23261602f, 1e-6f);
    }

    [Theory]
    // test_scheduler_ddpm.py, DDPMSchedulerTest.test_full_loop_no_noise: result_sum 258.9606, result_mean 0.3372.
    [InlineData(PredictionType.Epsilon, 258.9606, 0.3372)]
    // test_scheduler_ddpm.py, DDPMSchedulerTest.test_full_loop_with_v_prediction: result_sum 202.0296, result_mean 0.2631.
    [InlineData(PredictionType.VPrediction, 202.0296, 0.2631)]
    public void Ddpm_full_loop_matches_diffusers(PredictionType prediction, double expectedSum, double expectedMean)
    {
        // Config of DDPMSchedulerTest.get_scheduler_config: 1000 steps, linear 1e-4..0.02, fixed_small, clip_sample True.
        using var scope = NewDisposeScope();
        var options = new SchedulerOptions
        {
            Algorithm = SamplerKind.Ddpm,
            Convention = ScheduleConvention.Diffusers,
            TrainTimesteps = 1000,
            VarianceType = VarianceType.FixedSmall,
            ClipSample = true,
            PredictionType = prediction,
        };
        var scheduler = SchedulerFactory.Create(options);
        scheduler.Timesteps.Should().HaveCount(1000);
        scheduler.Timesteps[0].Should().Be(999);
        scheduler.Timesteps[^1].Should().Be(0);

        using var generator = new Generator(0); // generator = torch.manual_seed(0)
        var sample = DummySampleDeter();
        foreach (int t in scheduler.Timesteps)
        {
            using var stepScope = NewDisposeScope();
            var residual = DummyModel(sample, t);
            var result = scheduler.Step(residual, t, sample, generator);
            sample = result.PrevSample.MoveToOuterDisposeScope();
        }

        var (sum, mean) = SumAndMeanOfAbs(sample);
        sum.Should().BeApproximately(expectedSum, 1e-2);
        mean.Should().BeApproximately(expectedMean, 1e-3);
    }

    [Theory]
    // test_scheduler_ddim.py, DDIMSchedulerTest.test_full_loop_no_noise: result_sum 172.0067, result_mean 0.223967.
    [InlineData(PredictionType.Epsilon, 0.0001, true, 172.0067, 0.223967)]
    // test_scheduler_ddim.py, DDIMSchedulerTest.test_full_loop_with_v_prediction: result_sum 52.5302, result_mean 0.0684.
    [InlineData(PredictionType.VPrediction, 0.0001, true, 52.5302, 0.0684)]
    // test_scheduler_ddim.py, DDIMSchedulerTest.test_full_loop_with_set_alpha_to_one (beta_start 0.01): 149.8295, 0.1951.
    [InlineData(PredictionType.Epsilon, 0.01, true, 149.8295, 0.1951)]
    // test_scheduler_ddim.py, DDIMSchedulerTest.test_full_loop_with_no_set_alpha_to_one (beta_start 0.01): 149.0784, 0.1941.
    [InlineData(PredictionType.Epsilon, 0.01, false, 149.0784, 0.1941)]
    public void Ddim_full_loop_matches_diffusers(PredictionType prediction, double betaStart, bool setAlphaToOne, double expectedSum, double expectedMean)
    {
        // DDIMSchedulerTest.full_loop: 1000 steps, linear, clip_sample True, 10 inference steps, eta 0, DDIMScheduler's
        // default timestep_spacing "leading" and steps_offset 0.
        using var scope = NewDisposeScope();
        var options = new SchedulerOptions
        {
            Algorithm = SamplerKind.Ddim,
            Convention = ScheduleConvention.Diffusers,
            TrainTimesteps = 1000,
            BetaStart = betaStart,
            ClipSample = true,
            PredictionType = prediction,
            SetAlphaToOne = setAlphaToOne,
            TimestepSpacing = TimestepSpacing.Leading,
            InferenceSteps = 10,
        };
        var scheduler = SchedulerFactory.Create(options);
        scheduler.Timesteps.Should().Equal(900, 800, 700, 600, 500, 400, 300, 200, 100, 0);

        var sample = DummySampleDeter();
        foreach (int t in scheduler.Timesteps)
        {
            using var stepScope = NewDisposeScope();
            var result = scheduler.Step(DummyModel(sample, t), t, sample);
            sample = result.PrevSample.MoveToOuterDisposeScope();
        }

        var (sum, mean) = SumAndMeanOfAbs(sample);
        sum.Should().BeApproximately(expectedSum, 1e-2);
        mean.Should().BeApproximately(expectedMean, 1e-3);
    }

    [Theory]
    // test_scheduler_dpm_multi.py, DPMSolverMultistepSchedulerTest.test_full_loop_no_noise: result_mean 0.3301.
    [InlineData(PredictionType.Epsilon, FinalSigmas.SigmaMin, 0.3301)]
    // test_scheduler_dpm_multi.py, DPMSolverMultistepSchedulerTest.test_full_loop_with_v_prediction: result_mean 0.2251.
    [InlineData(PredictionType.VPrediction, FinalSigmas.SigmaMin, 0.2251)]
    // Not published by diffusers: the same loops with final_sigmas_type "zero", from a float32 PyTorch transcription of
    // diffusers' DPMSolverMultistepScheduler.step (this repository's review, 0.24090020 and 0.09851819); a regression pin.
    [InlineData(PredictionType.Epsilon, FinalSigmas.Zero, 0.2409)]
    [InlineData(PredictionType.VPrediction, FinalSigmas.Zero, 0.0985)]
    public void Dpm_solver_full_loop_matches_diffusers(PredictionType prediction, FinalSigmas finalSigmas, double expectedMean)
    {
        // DPMSolverMultistepSchedulerTest.get_scheduler_config: 1000 steps, linear, solver_order 2, dpmsolver++, midpoint,
        // lower_order_final False; full_loop takes 10 steps with the default "linspace" spacing. The published means are
        // reproduced when the last step lands on sigma_min (diffusers' behaviour when those numbers were recorded, before
        // final_sigmas_type existed): with "zero" the last step is first order and returns x0.
        using var scope = NewDisposeScope();
        var options = new SchedulerOptions
        {
            Algorithm = SamplerKind.DpmSolverMultistep,
            Convention = ScheduleConvention.Diffusers,
            TrainTimesteps = 1000,
            SolverOrder = 2,
            LowerOrderFinal = false,
            FinalSigmas = finalSigmas,
            PredictionType = prediction,
            TimestepSpacing = TimestepSpacing.Linspace,
            InferenceSteps = 10,
        };
        var scheduler = SchedulerFactory.Create(options);

        // np.linspace(0, 999, 11).round()[::-1][:-1]
        scheduler.Timesteps.Should().Equal(999, 899, 799, 699, 599, 500, 400, 300, 200, 100);

        var sample = DummySampleDeter();
        using (var loop = scheduler.BeginLoop())
        {
            foreach (int t in scheduler.Timesteps)
            {
                using var stepScope = NewDisposeScope();
                var result = loop.Step(DummyModel(sample, t), t, sample);
                sample = result.PrevSample.MoveToOuterDisposeScope();
            }
        }

        SumAndMeanOfAbs(sample).Mean.Should().BeApproximately(expectedMean, 1e-3);
    }

    [Theory]
    // test_scheduler_euler_ancestral.py, EulerAncestralDiscreteSchedulerTest.test_full_loop_no_noise: 152.3192, 0.1983.
    [InlineData(PredictionType.Epsilon, 152.3192, 0.1983)]
    // test_scheduler_euler_ancestral.py, EulerAncestralDiscreteSchedulerTest.test_full_loop_with_v_prediction: 108.4439, 0.1412.
    [InlineData(PredictionType.VPrediction, 108.4439, 0.1412)]
    public void Euler_ancestral_full_loop_matches_diffusers(PredictionType prediction, double expectedSum, double expectedMean)
    {
        // EulerAncestralDiscreteSchedulerTest: 1100 training steps, linear, 10 inference steps, default "linspace"
        // spacing (fractional timesteps), generator torch.manual_seed(0).
        using var scope = NewDisposeScope();
        var options = new SchedulerOptions
        {
            Algorithm = SamplerKind.EulerAncestral,
            Convention = ScheduleConvention.Diffusers,
            TrainTimesteps = 1100,
            PredictionType = prediction,
            TimestepSpacing = TimestepSpacing.Linspace,
            InferenceSteps = 10,
        };
        var scheduler = SchedulerFactory.Create(options);

        // np.linspace(0, 1099, 10)[::-1], rounded for the integer keys; the model sees the exact values.
        scheduler.Timesteps.Should().Equal(1099, 977, 855, 733, 611, 488, 366, 244, 122, 0);
        scheduler.GetModelTimestep(122).Should().BeApproximately(122.11111111111111, 1e-9);

        using var generator = new Generator(0);
        var sample = DummySampleDeter() * scheduler.InitNoiseSigma;
        foreach (int t in scheduler.Timesteps)
        {
            using var stepScope = NewDisposeScope();

            // As the diffusers test loop does: the scaled sample is both the model input and the sample stepped.
            var scaled = scheduler.ScaleModelInput(sample, t);
            var output = DummyModel(scaled, scheduler.GetModelTimestep(t));
            var result = scheduler.Step(output, t, scaled, generator);
            sample = result.PrevSample.MoveToOuterDisposeScope();
        }

        var (sum, mean) = SumAndMeanOfAbs(sample);
        sum.Should().BeApproximately(expectedSum, 1e-2);
        mean.Should().BeApproximately(expectedMean, 1e-3);
    }
}
