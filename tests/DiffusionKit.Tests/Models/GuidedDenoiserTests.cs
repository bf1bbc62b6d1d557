using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Models;

/// <summary>The guided forward pass (context-free down path once, up path per context) equals two plain passes.</summary>
public sealed class GuidedDenoiserTests
{
    private static ContextUnet Network()
    {
        var net = new ContextUnet(new ContextUnetOptions { Features = 16, ContextSize = 6, ImageSize = 8 }, seed: 3);
        net.eval();
        return net;
    }

    [Fact]
    public void Every_row_paired_equals_the_plain_forward_pass_of_both_halves()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var net = Network();
        using var g = new Generator(1);
        var x = randn(new long[] { 5, 3, 8, 8 }, generator: g);
        var t = rand(new long[] { 5 }, generator: g);
        var c = randn(new long[] { 5, 6 }, generator: g);
        var u = zeros(5, 6);

        var plain = net.forward(cat(new[] { x, x }), cat(new[] { t, t }), cat(new[] { c, u }));
        var guided = ((IGuidedDenoiser)net).PredictNoiseGuided(x, t, c, null, u);

        guided.shape.Should().Equal(10, 3, 8, 8);
        (guided - plain).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void Only_the_listed_rows_are_predicted_a_second_time_with_their_own_second_context()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var net = Network();
        using var g = new Generator(2);
        var x = randn(new long[] { 4, 3, 8, 8 }, generator: g);
        var t = rand(new long[] { 4 }, generator: g);
        var c = randn(new long[] { 4, 6 }, generator: g);
        var second = randn(new long[] { 2, 6 }, generator: g);
        var rows = tensor(new long[] { 3, 1 });

        var guided = ((IGuidedDenoiser)net).PredictNoiseGuided(x, t, c, rows, second);

        guided.shape.Should().Equal(6, 3, 8, 8);
        (guided.narrow(0, 0, 4) - net.forward(x, t, c)).abs().max().item<float>().Should().BeLessThan(1e-5f);
        var expected = net.forward(x.index_select(0, rows), t.index_select(0, rows), second);
        (guided.narrow(0, 4, 2) - expected).abs().max().item<float>().Should().BeLessThan(1e-5f);
    }

    [Fact]
    public void The_bfloat16_copy_runs_the_guided_pass_within_bfloat16_rounding_of_its_plain_pass()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var net = Network();
        using var bf16 = new BFloat16Denoiser(net);
        using var g = new Generator(4);
        var x = randn(new long[] { 3, 3, 8, 8 }, generator: g);
        var t = rand(new long[] { 3 }, generator: g);
        var c = randn(new long[] { 3, 6 }, generator: g);
        var u = zeros(3, 6);

        var plain = bf16.PredictNoise(cat(new[] { x, x }), cat(new[] { t, t }), cat(new[] { c, u }));
        var guided = ((IGuidedDenoiser)bf16).PredictNoiseGuided(x, t, c, null, u);

        guided.dtype.Should().Be(ScalarType.Float32);
        (guided - plain).abs().max().item<float>().Should().BeLessThan(0.05f, "both are bfloat16 arithmetic; only the layout of the activations differs");
    }

    [Fact]
    public void Guided_sampling_gives_the_images_of_a_denoiser_without_the_shared_path()
    {
        using var scope = NewDisposeScope();
        using var net = Network();
        var context = randn(new long[] { 3, 6 }, generator: new Generator(5));
        SamplingOptions Options() => new() { Seed = 7, GuidanceScales = [0, 2, 3.5], UnconditionalContext = zeros(1, 6) };
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistep, InferenceSteps = 8 });

        var shared = new DiffusionSampler().Sample(net, scheduler, context, Options());
        var separate = new DiffusionSampler().Sample(new PlainDenoiser(net), scheduler, context, Options());

        (shared - separate).abs().max().item<float>().Should().BeLessThan(1e-4f);
    }

    /// <summary>Hides <see cref="IGuidedDenoiser"/>, so the sampler concatenates both halves into one plain call.</summary>
    private sealed class PlainDenoiser(ContextUnet net) : IDenoiser
    {
        public int Channels => net.Channels;

        public int ImageSize => net.ImageSize;

        public int ContextSize => net.ContextSize;

        public Device Device => net.Device;

        public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) => net.PredictNoise(sample, time, context);
    }
}
