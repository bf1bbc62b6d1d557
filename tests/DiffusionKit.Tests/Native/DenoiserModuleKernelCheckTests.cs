using DiffusionKit.Models;
using DiffusionKit.Native;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Native;

/// <summary>
/// The kernel check and routing for a denoiser other than the context U-Net (<see cref="TinyConvDenoiser"/>, whose
/// convolutions go through the public <see cref="KernelRouting.Call"/>): checked on its own forward pass, routed like
/// the U-Net, in the pipeline, the trainer and on its own first call.
/// </summary>
[Collection(KernelRoutingCollection.Name)]
public sealed class DenoiserModuleKernelCheckTests : IDisposable
{
    private static readonly string[] Vocabulary = ["red", "blue"];
    private readonly ITestOutputHelper _output;

    public DenoiserModuleKernelCheckTests(ITestOutputHelper output)
    {
        _output = output;
        KernelCheck.ResetForTests();
    }

    public void Dispose()
    {
        KernelRouting.FaultInjector = null;
        KernelCheck.ResetForTests();
        TestAssemblyInitializer.DecideKernelRoutes();
    }

    /// <summary>Faulty widths on the Zen 5: 3 channels in and out, 24 inside (docs/benchmarks.md, "Zen 5 kernel faults").</summary>
    private static TinyConvDenoiser Network(long seed = 1) => new(channels: 3, imageSize: 16, contextSize: 4, hidden: 24, seed: seed);

    private static (Tensor X, Tensor T, Tensor C) Inputs()
    {
        using var generator = new Generator(11);
        return (randn(new long[] { 8, 3, 16, 16 }, generator: generator), rand(new long[] { 8 }, generator: generator), randn(new long[] { 8, 4 }, generator: generator));
    }

    /// <summary>‖candidate − reference‖ / ‖reference‖ of the network's forward pass against its float64 copy (NaN when not finite).</summary>
    private static double ForwardError(TinyConvDenoiser model, Func<Tensor, Tensor, Tensor, Tensor> run)
    {
        var (x, t, c) = Inputs();
        using var reference = model.CopyAs(ScalarType.Float64);
        reference.eval();
        model.eval();
        using var noGrad = no_grad();
        var exact = reference.forward(x.to(ScalarType.Float64), t.to(ScalarType.Float64), c.to(ScalarType.Float64));
        var candidate = run(x, t, c).to(ScalarType.Float64);
        return candidate.isfinite().all().item<bool>() ? (candidate - exact).norm().item<double>() / exact.norm().item<double>() : double.NaN;
    }

    [Fact]
    public void A_second_denoiser_is_checked_on_its_own_forward_pass_and_then_matches_float64_on_this_cpu()
    {
        using var model = Network();

        var result = KernelCheck.Ensure(model, ScalarType.Float32, backward: true);
        double error = ForwardError(model, (x, t, c) => model.PredictNoise(x, t, c));

        // On the Zen 5 the native kernels fail for these widths and the check moves off them; elsewhere native passes.
        _output.WriteLine($"route {result.Route}, first route's error {result.Error}, forward error after the check {error}; {result.Warning}");
        result.Passed.Should().BeTrue(result.Warning);
        KernelRouting.RouteFor(ScalarType.Float32).Should().Be(result.Route);
        double.IsFinite(error).Should().BeTrue("the forward pass runs on the route the check chose");
        error.Should().BeLessThan(KernelCheck.Float32Tolerance);
        if (result.Route != KernelRoute.Native)
        {
            result.Warning.Should().Contain("Native:").And.Contain("CPU:");

            // For the record: the same network on the native route (the fault strikes in most calls, not all, so this is
            // logged, not asserted). On the 2-core Zen 5 it was NaN.
            KernelRouting.Reset();
            _output.WriteLine($"native route, unrouted: forward error {ForwardError(model, (x, t, c) => model.forward(x, t, c))}");
        }
    }

    [Fact]
    public void A_faulty_native_route_is_routed_around_for_a_second_denoiser_on_its_first_call()
    {
        KernelRouting.FaultInjector = (route, dtype) => route == KernelRoute.Native && dtype == ScalarType.Float32 ? KernelFault.NonFinite : KernelFault.None;
        using var model = Network(seed: 2);

        double error = ForwardError(model, (x, t, c) => model.PredictNoise(x, t, c));

        KernelRouting.RouteFor(ScalarType.Float32).Should().Be(KernelRoute.PaddedChannels, "its first call ran the check, which found the native route faulty");
        error.Should().BeLessThan(KernelCheck.Float32Tolerance, "its convolutions take the padded route (finite, equal to float64)");
    }

    [Fact]
    public void The_pipeline_and_the_trainer_check_a_second_denoiser_before_it_runs()
    {
        KernelRouting.FaultInjector = (route, dtype) => route == KernelRoute.Native && dtype == ScalarType.Float32 ? KernelFault.NonFinite : KernelFault.None;
        using var model = new TinyConvDenoiser(channels: 3, imageSize: 8, contextSize: Vocabulary.Length, hidden: 24, seed: 3);
        var warnings = new List<string>();
        var losses = new List<double>();

        using (new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).UsePrecision(DiffusionKit.Training.Precision.Float32).Build())
        {
            KernelRouting.RouteFor(ScalarType.Float32).Should().Be(KernelRoute.PaddedChannels, "building the pipeline ran the check");
        }

        KernelCheck.ResetForTests();
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 4, LearningRate = 1e-3, Seed = 1, Precision = DiffusionKit.Training.Precision.Float32, OnWarning = warnings.Add });
        trainer.Train(new SquaresDataset(8), new SyncProgress(p => losses.Add(p.Loss)));

        KernelRouting.RouteFor(ScalarType.Float32).Should().Be(KernelRoute.PaddedChannels, "the trainer ran the check (forward and backward) before the first step");
        warnings.Should().Contain(w => w.Contains("padded-channels", StringComparison.Ordinal));
        losses.Should().HaveCount(3).And.OnlyContain(l => double.IsFinite(l));
    }

    private sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
