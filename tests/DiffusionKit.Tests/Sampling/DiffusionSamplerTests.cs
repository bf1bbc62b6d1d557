using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Sampling;

public sealed class DiffusionSamplerTests
{
    private static Tensor Context(int batch) => arange(batch * 4, dtype: ScalarType.Float32).view(batch, 4) / 10;

    [Fact]
    public void Produces_images_in_unit_range_with_the_model_shape()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var images = new DiffusionSampler().Sample(model, new DdimScheduler(inferenceSteps: 10), Context(5), new SamplingOptions { Seed = 3 });

        images.shape.Should().Equal(5, 3, 8, 8);
        images.dtype.Should().Be(ScalarType.Float32);
        images.min().item<float>().Should().BeGreaterThanOrEqualTo(0f);
        images.max().item<float>().Should().BeLessThanOrEqualTo(1f);
        images.std().item<float>().Should().BeGreaterThan(0.01f);
        model.Calls.Should().Be(10);
    }

    [Fact]
    public void Same_seed_gives_identical_images_and_another_seed_differs()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = new DdpmScheduler(trainTimesteps: 50);
        var a = new DiffusionSampler().Sample(model, scheduler, Context(2), new SamplingOptions { Seed = 11 });
        var b = new DiffusionSampler().Sample(model, scheduler, Context(2), new SamplingOptions { Seed = 11 });
        var c = new DiffusionSampler().Sample(model, scheduler, Context(2), new SamplingOptions { Seed = 12 });
        using var g = new Generator(11);
        var d = new DiffusionSampler().Sample(model, scheduler, Context(1), new SamplingOptions { Generator = g });

        a.eq(b).all().item<bool>().Should().BeTrue();
        a[0].eq(d[0]).all().item<bool>().Should().BeTrue("image 0 draws from seed 11, as a one-image batch with a generator seeded 11 does");
        (a - c).abs().max().item<float>().Should().BeGreaterThan(0.01f);
    }

    [Fact]
    public void Guidance_runs_conditional_and_unconditional_in_one_batch()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = new DdimScheduler(inferenceSteps: 4);
        var guided = new DiffusionSampler().Sample(model, scheduler, Context(3), new SamplingOptions { Seed = 5, GuidanceScale = 2 });

        model.Calls.Should().Be(4);
        model.LastBatch.Should().Be(6);
        var plain = new DiffusionSampler().Sample(model, scheduler, Context(3), new SamplingOptions { Seed = 5 });
        model.LastBatch.Should().Be(3, "guidance 0 is one plain conditional pass");
        (guided - plain).abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }

    [Fact]
    public void Guided_eps_is_one_plus_w_cond_minus_w_uncond()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = new DdimScheduler(inferenceSteps: 1);
        var context = Context(1);
        var images = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Seed = 9, GuidanceScale = 3 });

        using var g = new Generator(9);
        var x = randn(new long[] { 1, 3, 8, 8 }, generator: g);
        var time = full(new long[] { 1 }, 1.0f);
        var cond = model.PredictNoise(x, time, context);
        var uncond = model.PredictNoise(x, time, null);
        var eps = (4 * cond) - (3 * uncond);
        using var step = scheduler.Step(eps, 500, x);
        var expected = ((step.PrevSample + 1) / 2).clamp(0, 1);
        (images - expected).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Unconditional_sampling_uses_Count()
    {
        using var scope = NewDisposeScope();
        var images = new DiffusionSampler().Sample(new ClosedFormDenoiser(), new DdimScheduler(inferenceSteps: 2), null, new SamplingOptions { Count = 4 });
        images.shape[0].Should().Be(4);
    }

    [Fact]
    public void Progress_reports_every_step_and_intermediates_when_asked()
    {
        using var scope = NewDisposeScope();
        var reports = new List<SamplingProgress>();
        var progress = new ActionProgress<SamplingProgress>(reports.Add);
        new DiffusionSampler().Sample(new ClosedFormDenoiser(), new DdimScheduler(inferenceSteps: 5), Context(1), new SamplingOptions { CaptureIntermediates = true }, progress);

        reports.Select(r => r.Step).Should().Equal(1, 2, 3, 4, 5);
        reports.Select(r => r.Timestep).Should().Equal(500, 400, 300, 200, 100);
        reports.Select(r => r.Intermediate is null ? "none" : string.Join("x", r.Intermediate.shape)).Should().AllBe("1x3x8x8");
        foreach (var r in reports)
        {
            r.Intermediate!.Dispose();
        }
    }

    [Fact]
    public void Cancellation_stops_the_loop()
    {
        using var scope = NewDisposeScope();
        using var cts = new CancellationTokenSource();
        var model = new ClosedFormDenoiser();
        var progress = new ActionProgress<SamplingProgress>(p =>
        {
            if (p.Step == 3)
            {
                cts.Cancel();
            }
        });

        var act = () => new DiffusionSampler().Sample(model, new DdimScheduler(inferenceSteps: 10), Context(1), new SamplingOptions(), progress, cts.Token);

        act.Should().Throw<OperationCanceledException>();
        model.Calls.Should().Be(3);
    }

    [Fact]
    public void Bad_input_is_rejected_with_the_parameter_named()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = new DdimScheduler(inferenceSteps: 2);
        ((Action)(() => new DiffusionSampler().Sample(model, scheduler, zeros(2, 5), new SamplingOptions()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "context" && e.Message.Contains("[B, 4]"));
        ((Action)(() => new DiffusionSampler().Sample(model, scheduler, full(1, 4, float.NaN), new SamplingOptions()))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "context" && e.Message.Contains("NaN"));
        ((Action)(() => new DiffusionSampler().Sample(model, scheduler, Context(1), new SamplingOptions { GuidanceScale = -1 }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*GuidanceScale*");
        ((Action)(() => new DiffusionSampler().Sample(model, scheduler, Context(1), new SamplingOptions { GuidanceScale = double.NaN }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*GuidanceScale*");
        ((Action)(() => new DiffusionSampler().Sample(model, scheduler, null, new SamplingOptions { Count = 0 }))).Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Count*");
    }

    [Fact]
    public void Sampling_does_not_leak_tensors_across_steps()
    {
        var model = new ClosedFormDenoiser();
        var scheduler = new DdimScheduler(inferenceSteps: 20);
        using (var warm = new DiffusionSampler().Sample(model, scheduler, null, new SamplingOptions { Count = 2 }))
        {
        }

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        var counts = new List<long>();
        var progress = new ActionProgress<SamplingProgress>(_ => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        using (var images = new DiffusionSampler().Sample(model, scheduler, null, new SamplingOptions { Count = 2 }, progress))
        {
        }

        counts.Max().Should().BeLessThanOrEqualTo(counts[1], "live tensors must not grow from step to step");
        DisposeScopeManager.Statistics.ThreadTotalLiveCount.Should().Be(before, "nothing survives the call but the returned images");
    }
}

/// <summary>Classifier-free guidance uses the encoder's unconditional context when one is given.</summary>
public sealed class UnconditionalContextTests
{
    [Fact]
    public void Guidance_uses_the_given_unconditional_context_and_zeros_by_default()
    {
        using var scope = NewDisposeScope();
        var model = new ClosedFormDenoiser();
        var scheduler = new DdimScheduler(inferenceSteps: 1);
        var context = arange(4, dtype: ScalarType.Float32).view(1, 4) / 10;
        var unconditional = full(new long[] { 1, 4 }, 0.5f);

        var byDefault = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Seed = 9, GuidanceScale = 3 });
        var explicitZeros = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Seed = 9, GuidanceScale = 3, UnconditionalContext = zeros(1, 4) });
        var learned = new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Seed = 9, GuidanceScale = 3, UnconditionalContext = unconditional });

        byDefault.eq(explicitZeros).all().item<bool>().Should().BeTrue();
        using var g = new Generator(9);
        var x = randn(new long[] { 1, 3, 8, 8 }, generator: g);
        var time = full(new long[] { 1 }, 1.0f);
        var eps = (4 * model.PredictNoise(x, time, context)) - (3 * model.PredictNoise(x, time, unconditional));
        using var step = scheduler.Step(eps, 500, x);
        (learned - ((step.PrevSample + 1) / 2).clamp(0, 1)).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void A_misshaped_unconditional_context_is_rejected()
    {
        using var scope = NewDisposeScope();
        var act = () => new DiffusionSampler().Sample(new ClosedFormDenoiser(), new DdimScheduler(inferenceSteps: 1), zeros(2, 4), new SamplingOptions { GuidanceScale = 1, UnconditionalContext = zeros(1, 5) });
        act.Should().Throw<ArgumentException>().WithMessage("*UnconditionalContext*[1, 4]*");
    }
}
