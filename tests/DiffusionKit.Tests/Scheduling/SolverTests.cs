using DiffusionKit.Scheduling;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Scheduling;

public sealed class SolverTests
{
    private static readonly long[] Shape = { 1, 1, 2, 2 };

    [Fact]
    public void Dpm_solver_needs_a_loop_and_refuses_a_bare_step()
    {
        using var scope = NewDisposeScope();
        var s = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 5 });
        var act = () => s.Step(zeros(Shape), s.Timesteps[0], zeros(Shape));
        act.Should().Throw<NotSupportedException>().WithMessage("*BeginLoop*");
    }

    [Fact]
    public void Dpm_solver_loop_steps_must_follow_the_timesteps_in_order()
    {
        using var scope = NewDisposeScope();
        var s = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 5 });
        using var loop = s.BeginLoop();
        var skip = () => loop.Step(zeros(Shape), s.Timesteps[1], zeros(Shape));
        skip.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "timestep" && e.Message.Contains($"expects timestep {s.Timesteps[0]}"));
    }

    [Fact]
    public void Dpm_solver_first_step_is_DDIM_and_second_uses_the_history()
    {
        // First order DPM-Solver++ equals deterministic DDIM between the same timesteps (Lu et al. 2022, section 4.1).
        using var scope = NewDisposeScope();
        var options = new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 5 };
        var dpm = SchedulerFactory.Create(options);
        var ddim = new DdimScheduler(inferenceSteps: 5);
        dpm.Timesteps.Should().Equal(ddim.Timesteps);
        var x = tensor(new[] { 0.5f, -0.25f, 1.0f, 0.0f }).view(Shape);
        var eps = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f }).view(Shape);

        using var loop = dpm.BeginLoop();
        using var first = loop.Step(eps, 500, x);
        using var reference = ddim.Step(eps, 500, x);
        (first.PrevSample - reference.PrevSample).abs().max().item<float>().Should().BeLessThan(1e-5f);

        // The second step differs from a fresh first-order step: the loop remembered m_0 (with a new eps, so the x0
        // predictions differ; with the same eps DDIM is exact and D1 = 0).
        var eps2 = -eps;
        using var second = loop.Step(eps2, 400, first.PrevSample);
        using var firstOrder = ddim.Step(eps2, 400, first.PrevSample);
        (second.PrevSample - firstOrder.PrevSample).abs().max().item<float>().Should().BeGreaterThan(1e-4f);

        // A new loop starts afresh: its first step is first order again.
        using var again = dpm.BeginLoop();
        using var restart = again.Step(eps, 500, x);
        restart.PrevSample.eq(first.PrevSample).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Dpm_solver_with_order_1_is_DDIM_throughout()
    {
        using var scope = NewDisposeScope();
        var dpm = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 5, SolverOrder = 1 });
        var ddim = new DdimScheduler(inferenceSteps: 5);
        var x = tensor(new[] { 0.5f, -0.25f, 1.0f, 0.0f }).view(Shape);
        var eps = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f }).view(Shape);
        using var loop = dpm.BeginLoop();
        var a = x;
        var b = x;
        foreach (int t in dpm.Timesteps)
        {
            a = loop.Step(eps, t, a).PrevSample;
            b = ddim.Step(eps, t, b).PrevSample;
        }

        (a - b).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Sde_dpm_solver_steps_follow_the_sde_update_with_seeded_noise()
    {
        // With a sample-predicting model the x0 prediction m is the model output itself, so each step can be computed by
        // hand: x_t = s_t/s_s·exp(-h)·x + alpha_t·(1 - exp(-2h))·(m + 0.5·D1) + s_t·sqrt(1 - exp(-2h))·z (Lu et al. 2022, SDE-DPM-Solver++ 2M).
        using var scope = NewDisposeScope();
        var dpm = (DpmSolverMultistepScheduler)SchedulerFactory.Create(new SchedulerOptions
        {
            Algorithm = SamplerKind.DpmSolverMultistepSde, PredictionType = PredictionType.Sample, InferenceSteps = 5,
        });
        dpm.IsStochastic.Should().BeTrue();
        var ab = new NoiseSchedule().AlphaBars;
        static (double Alpha, double S, double Lambda) Coefficients(double alphaBar)
        {
            double sigma = Math.Sqrt((1 - alphaBar) / alphaBar);
            double alpha = 1 / Math.Sqrt((sigma * sigma) + 1);
            return (alpha, sigma * alpha, Math.Log(alpha) - Math.Log(sigma * alpha));
        }

        var x = tensor(new[] { 0.5f, -0.25f, 1.0f, 0.0f }).view(Shape);
        var m0 = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f }).view(Shape);
        var m1 = tensor(new[] { -0.2f, 0.3f, 0.1f, -0.4f }).view(Shape);
        int[] t = dpm.Timesteps.ToArray();
        using var generator = new Generator(42);
        using var loop = dpm.BeginLoop();
        var first = loop.Step(m0, t[0], x, generator).PrevSample;
        var second = loop.Step(m1, t[1], first, generator).PrevSample;

        using var replay = new Generator(42);
        var z0 = randn(Shape, generator: replay);
        var z1 = randn(Shape, generator: replay);
        var (_, s0, l0) = Coefficients(ab[t[0]]);
        var (a1, s1, l1) = Coefficients(ab[t[1]]);
        var (a2, s2, l2) = Coefficients(ab[t[2]]);
        double h1 = l1 - l0, h2 = l2 - l1;
        var expectedFirst = ((s1 / s0) * Math.Exp(-h1) * x) + (a1 * (1 - Math.Exp(-2 * h1)) * m0) + (s1 * Math.Sqrt(1 - Math.Exp(-2 * h1)) * z0);
        var d1 = (m1 - m0) * (h2 / h1);
        var expectedSecond = ((s2 / s1) * Math.Exp(-h2) * first) + (a2 * (1 - Math.Exp(-2 * h2)) * (m1 + (0.5 * d1))) + (s2 * Math.Sqrt(1 - Math.Exp(-2 * h2)) * z1);

        (first - expectedFirst).abs().max().item<float>().Should().BeLessThan(1e-5f);
        (second - expectedSecond).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Sde_dpm_solver_is_seeded_and_lands_on_the_x0_prediction()
    {
        using var scope = NewDisposeScope();
        var dpm = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistepSde, PredictionType = PredictionType.Sample, InferenceSteps = 4 });
        var x = tensor(new[] { 0.5f, -0.25f, 1.0f, 0.0f }).view(Shape);
        var m = tensor(new[] { 0.1f, 0.2f, -0.3f, 0.4f }).view(Shape);
        Tensor Run(ulong seed)
        {
            using var generator = new Generator(seed);
            using var loop = dpm.BeginLoop();
            var sample = x;
            foreach (int t in dpm.Timesteps)
            {
                sample = loop.Step(m, t, sample, generator).PrevSample;
            }

            return sample;
        }

        Run(1).eq(Run(1)).all().item<bool>().Should().BeTrue("the same seed gives the same sample");
        using var generatorA = new Generator(1);
        using var generatorB = new Generator(2);
        using var loopA = dpm.BeginLoop();
        using var loopB = dpm.BeginLoop();
        loopA.Step(m, dpm.Timesteps[0], x, generatorA).PrevSample.eq(loopB.Step(m, dpm.Timesteps[0], x, generatorB).PrevSample).all().item<bool>()
            .Should().BeFalse("another seed draws other noise");
        (Run(3) - m).abs().max().item<float>().Should().BeLessThan(1e-6f, "the last step lands on sigma = 0, where the sample is the x0 prediction");
    }

    [Fact]
    public void Euler_ancestral_scales_model_input_and_adds_sigma_up_noise()
    {
        using var scope = NewDisposeScope();
        var s = (EulerAncestralScheduler)SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.EulerAncestral, InferenceSteps = 5 });
        s.Timesteps.Should().Equal(500, 400, 300, 200, 100);
        double ab = s.Schedule.AlphaBars[500];
        double sigma = Math.Sqrt((1 - ab) / ab);
        s.Sigmas[0].Should().BeApproximately(sigma, 1e-12);
        s.InitNoiseSigma.Should().Be(s.Sigmas[0]);
        var x = full(Shape, 2f);
        s.ScaleModelInput(x, 500)[0, 0, 0, 0].item<float>().Should().BeApproximately((float)(2 / Math.Sqrt((sigma * sigma) + 1)), 1e-6f);
        s.GetModelTimestep(400).Should().Be(400);

        var eps = full(Shape, 0.5f);
        using var g1 = new Generator(4);
        using var r = s.Step(eps, 500, x, g1);
        using var g2 = new Generator(4);
        var z = randn(Shape, generator: g2);
        double next = s.Sigmas[1];
        double up = Math.Sqrt(next * next * ((sigma * sigma) - (next * next)) / (sigma * sigma));
        double down = Math.Sqrt((next * next) - (up * up));
        var x0 = 2 - (sigma * 0.5);
        var expected = 2 + ((2 - x0) / sigma * (down - sigma)) + (z * up);
        (r.PrevSample - expected).abs().max().item<float>().Should().BeLessThan(1e-4f);
        ((Action)(() => s.ScaleModelInput(x, 450))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("timestep");
    }

    [Fact]
    public void Ddpm_fixed_small_adds_the_posterior_variance_and_clipping_bounds_x0()
    {
        using var scope = NewDisposeScope();
        var s = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.Ddpm, VarianceType = VarianceType.FixedSmall, ClipSample = true, ClipSampleRange = 0.5 });
        var schedule = new NoiseSchedule();
        var x = full(Shape, 0.9f);
        var eps = full(Shape, -0.8f);
        const int t = 100;
        using var g1 = new Generator(8);
        using var r = s.Step(eps, t, x, g1);
        r.PredictedOriginalSample.max().item<float>().Should().Be(0.5f);

        double ab = schedule.AlphaBars[t];
        double abPrev = schedule.AlphaBars[t - 1];
        double a = schedule.Alphas[t];
        double epsClipped = (0.9 - (Math.Sqrt(ab) * 0.5)) / Math.Sqrt(1 - ab);
        double mean = (0.9 - (epsClipped * (1 - a) / Math.Sqrt(1 - ab))) / Math.Sqrt(a);
        double std = Math.Sqrt((1 - abPrev) / (1 - ab) * schedule.Betas[t]);
        using var g2 = new Generator(8);
        var z = randn(Shape, generator: g2);
        (r.PrevSample - (mean + (std * z))).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Ddim_with_eta_adds_seeded_noise_and_eta_0_ignores_the_generator()
    {
        using var scope = NewDisposeScope();
        var x = full(Shape, 0.3f);
        var eps = full(Shape, 0.1f);
        var noisy = SchedulerFactory.Create(new SchedulerOptions { Eta = 1.0, InferenceSteps = 10 });
        using var g1 = new Generator(1);
        using var g2 = new Generator(2);
        using var a = noisy.Step(eps, 500, x, g1);
        using var b = noisy.Step(eps, 500, x, g2);
        (a.PrevSample - b.PrevSample).abs().max().item<float>().Should().BeGreaterThan(1e-3f);

        var plain = SchedulerFactory.Create(new SchedulerOptions { InferenceSteps = 10 });
        using var c = plain.Step(eps, 500, x, g1);
        using var d = plain.Step(eps, 500, x, g2);
        c.PrevSample.eq(d.PrevSample).all().item<bool>().Should().BeTrue();
    }
}
