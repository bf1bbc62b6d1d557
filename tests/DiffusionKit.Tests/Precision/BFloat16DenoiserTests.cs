using DiffusionKit.Models;
using DiffusionKit.Tests.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Precision;

/// <summary>The bfloat16 sampling wrapper: close to the float32 network, float32 at the boundary, the source untouched.</summary>
public sealed class BFloat16DenoiserTests
{
    private static ContextUnet Source() => new(new ContextUnetOptions { Features = 16, ContextSize = 5, ImageSize = 16 }, seed: 11);

    private static (Tensor Sample, Tensor Time, Tensor Context) Inputs(int batch, long seed)
    {
        using var generator = new Generator((ulong)seed);
        return (randn(new long[] { batch, 3, 16, 16 }, generator: generator), rand(new long[] { batch }, generator: generator), rand(new long[] { batch, 5 }, generator: generator));
    }

    [Fact]
    public void Predictions_are_float32_and_close_to_the_float32_network()
    {
        using var source = Source();
        source.eval();
        using var denoiser = new BFloat16Denoiser(source);
        using var scope = NewDisposeScope();
        var (x, t, c) = Inputs(8, 1);

        using var noGrad = no_grad();
        var reference = source.PredictNoise(x, t, c);
        var fast = denoiser.PredictNoise(x, t, c);
        var unconditional = denoiser.PredictNoise(x, t, null);

        fast.dtype.Should().Be(ScalarType.Float32);
        fast.shape.Should().Equal(reference.shape);
        var diff = (fast - reference).abs();
        diff.max().item<float>().Should().BeLessThan(0.05f);
        diff.mean().item<float>().Should().BeLessThan(0.01f);
        diff.max().item<float>().Should().BeGreaterThan(0f, "the network really runs in bfloat16");
        (unconditional - source.PredictNoise(x, t, null)).abs().max().item<float>().Should().BeLessThan(0.05f);
    }

    [Fact]
    public void The_source_network_stays_float32_and_unchanged()
    {
        using var source = Source();
        var before = source.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        bool training = source.training;

        using (var denoiser = new BFloat16Denoiser(source))
        {
            using var scope = NewDisposeScope();
            var (x, t, c) = Inputs(2, 2);
            denoiser.PredictNoise(x, t, c);
        }

        source.training.Should().Be(training);
        foreach (var (name, tensor) in source.state_dict())
        {
            tensor.dtype.Should().Be(before[name].dtype, $"{name} keeps its dtype");
            TensorComparison.Identical(tensor, before[name]).Should().BeTrue($"{name} keeps its values");
        }
    }

    [Fact]
    public void Later_changes_to_the_source_do_not_reach_the_copy()
    {
        using var source = Source();
        source.eval();
        using var denoiser = new BFloat16Denoiser(source);
        using var scope = NewDisposeScope();
        var (x, t, c) = Inputs(2, 3);
        var first = denoiser.PredictNoise(x, t, c);

        using (no_grad())
        {
            foreach (var p in source.parameters())
            {
                p.zero_();
            }
        }

        TensorComparison.Identical(denoiser.PredictNoise(x, t, c), first).Should().BeTrue();
    }

    [Fact]
    public void It_samples_images_through_the_standard_sampler()
    {
        using var source = Source();
        using var denoiser = new BFloat16Denoiser(source);
        using var scope = NewDisposeScope();
        var context = rand(2, 5);

        var images = new DiffusionSampler().Sample(denoiser, new DdimScheduler(inferenceSteps: 5), context, new SamplingOptions { Seed = 1, GuidanceScale = 1 });

        images.shape.Should().Equal(2, 3, 16, 16);
        images.dtype.Should().Be(ScalarType.Float32);
        isfinite(images).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Inputs_are_checked_like_the_float32_network()
    {
        using var source = Source();
        using var denoiser = new BFloat16Denoiser(source);
        using var scope = NewDisposeScope();
        var (x, t, c) = Inputs(2, 4);

        ((Action)(() => denoiser.PredictNoise(x.to(ScalarType.BFloat16), t, c))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "sample" && e.Message.Contains("float32"));
        ((Action)(() => denoiser.PredictNoise(x, t.to(ScalarType.Float64), c))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("time");
        ((Action)(() => denoiser.PredictNoise(x, t, rand(2, 4)))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("context");
        ((Action)(() => denoiser.PredictNoise(rand(2, 3, 8, 8), t, c))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("sample");
        ((Action)(() => denoiser.PredictNoise(x, t, c.fill_(float.NaN)))).Should().Throw<ArgumentException>().Which.Message.Should().Contain("NaN");
    }

    [Fact]
    public void A_non_float32_source_is_rejected_and_a_disposed_wrapper_refuses_calls()
    {
        using var doubleSource = Source();
        doubleSource.to(ScalarType.Float64);
        ((Action)(() => new BFloat16Denoiser(doubleSource))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("source");

        using var source = Source();
        var denoiser = new BFloat16Denoiser(source);
        denoiser.Dispose();
        using var scope = NewDisposeScope();
        var (x, t, c) = Inputs(1, 5);
        ((Action)(() => denoiser.PredictNoise(x, t, c))).Should().Throw<ObjectDisposedException>();
    }
}
