using DiffusionKit.Models;
using DiffusionKit.Native;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TrainingPrecision = DiffusionKit.Training.Precision;

namespace DiffusionKit.Tests.Native;

/// <summary>Tests that change the process-wide kernel route run alone, never beside another test's network.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class KernelRoutingCollection
{
    public const string Name = "Kernel routing (process-wide)";
}

/// <summary>
/// The numerics check and the training-time diagnosis, driven on every CPU by a fault injector that corrupts the
/// convolutions' outputs in the configurations it names, as the faulty oneDNN kernels of a Zen 5 do.
/// </summary>
[Collection(KernelRoutingCollection.Name)]
public sealed class KernelCheckTests : IDisposable
{
    private static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    public KernelCheckTests() => KernelCheck.ResetForTests();

    public void Dispose()
    {
        KernelRouting.FaultInjector = null;
        KernelCheck.ResetForTests();
        TestAssemblyInitializer.DecideKernelRoutes();
    }

    private static ContextUnet Network(int features = 8) => new(new ContextUnetOptions { Features = features, ImageSize = 8, ContextSize = 4 }, seed: 3);

    [Fact]
    public void A_faulty_native_route_is_replaced_by_the_padded_route_with_one_warning_naming_the_cpu()
    {
        KernelRouting.FaultInjector = (route, dtype) => route == KernelRoute.Native && dtype == ScalarType.Float32 ? KernelFault.NonFinite : KernelFault.None;
        using var model = Network();

        var result = KernelCheck.Ensure(model, ScalarType.Float32, backward: true);

        result.Passed.Should().BeTrue();
        result.Route.Should().Be(KernelRoute.PaddedChannels);
        KernelRouting.RouteFor(ScalarType.Float32).Should().Be(KernelRoute.PaddedChannels);
        result.Warning.Should().Contain("Native: non-finite").And.Contain("padded-channels").And.Contain("CPU:").And.Contain("libtorch").And.Contain("oneDNN");
        KernelCheck.Ensure(model, ScalarType.Float32, backward: true).Should().BeSameAs(result, "the result is cached per process and shape");
    }

    [Fact]
    public void The_padded_route_computes_what_float64_computes()
    {
        KernelRouting.Use(ScalarType.Float32, KernelRoute.PaddedChannels);
        using var model = Network(features: 24);
        using var reference = model.CopyAs(ScalarType.Float64);
        using var generator = new Generator(5);
        var x = randn(new long[] { 3, 3, 8, 8 }, generator: generator);
        var t = rand(new long[] { 3 }, generator: generator);
        var c = randn(new long[] { 3, 4 }, generator: generator);
        model.eval();
        reference.eval();
        using var noGrad = no_grad();

        var padded = model.forward(x, t, c);
        var exact = reference.forward(x.to(ScalarType.Float64), t.to(ScalarType.Float64), c.to(ScalarType.Float64));

        (padded.to(ScalarType.Float64) - exact).abs().max().item<double>().Should().BeLessThan(1e-4 * exact.abs().max().item<double>());
    }

    [Fact]
    public void Wrong_but_finite_values_are_caught_too_and_reference_kernels_are_the_last_float32_route()
    {
        KernelRouting.CanUseReferenceKernels.Should().BeTrue("libtorch's oneDNN switch is reachable on this platform");
        KernelRouting.FaultInjector = (route, _) => route == KernelRoute.ReferenceKernels ? KernelFault.None : KernelFault.Wrong;
        using var model = Network();

        var result = KernelCheck.Ensure(model, ScalarType.Float32, backward: false);

        result.Route.Should().Be(KernelRoute.ReferenceKernels);
        result.Passed.Should().BeTrue();
        result.Warning.Should().Contain("PaddedChannels: 0.").And.Contain("reference-kernels");
    }

    [Fact]
    public void Auto_precision_falls_back_to_float32_when_bfloat16_fails_every_route()
    {
        KernelRouting.FaultInjector = (_, dtype) => dtype == ScalarType.BFloat16 ? KernelFault.NonFinite : KernelFault.None;
        using var model = Network();
        var warnings = new List<string>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 4, Seed = 1, Precision = TrainingPrecision.Auto, OnWarning = warnings.Add });

        var result = trainer.Train(model, new DdpmScheduler(), new SquaresDataset(8), Encoder);

        result.Precision.Should().Be(TrainingPrecision.Float32);
        result.PrecisionMeasurement.Should().BeNull("bfloat16 is not timed once its kernels failed the check");
        double.IsFinite(result.FinalLoss).Should().BeTrue();
        warnings.Should().ContainSingle(w => w.Contains("bfloat16 is not usable here; float32 is used"));
    }

    [Fact]
    public void A_kernel_fault_that_strikes_mid_run_is_diagnosed_and_the_step_redone_on_a_passing_route()
    {
        using var model = Network();
        KernelCheck.Ensure(model, ScalarType.Float32, backward: true);
        // From the 200th convolution on, every float32 route but the last (oneDNN off) fails, as if the run had moved onto
        // a faulty kernel path mid-way.
        int calls = 0;
        KernelRouting.FaultInjector = (route, dtype) => dtype == ScalarType.Float32 && route != KernelRoute.ReferenceKernels && Interlocked.Increment(ref calls) > 200 ? KernelFault.NonFinite : KernelFault.None;
        var warnings = new List<string>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 30, BatchSize = 4, Seed = 1, Precision = TrainingPrecision.Float32, OnWarning = warnings.Add });

        var result = trainer.Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder);

        calls.Should().BeGreaterThan(200, "the fault struck during the run");
        result.Steps.Should().Be(30);
        double.IsFinite(result.FinalLoss).Should().BeTrue();
        warnings.Should().Contain(w => w.Contains("a CPU kernel fault, not divergence"));
        KernelRouting.RouteFor(ScalarType.Float32).Should().Be(KernelRoute.ReferenceKernels);
        model.parameters().All(p => p.isfinite().all().item<bool>()).Should().BeTrue("the faulty steps never reached the weights: the model is usable");
    }

    [Fact]
    public void A_fault_no_route_avoids_stops_with_the_kernel_diagnosis_not_the_learning_rate_advice()
    {
        using var model = Network();
        KernelCheck.Ensure(model, ScalarType.Float32, backward: true);
        int calls = 0;
        KernelRouting.FaultInjector = (_, dtype) => dtype == ScalarType.Float32 && Interlocked.Increment(ref calls) > 200 ? KernelFault.NonFinite : KernelFault.None;
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 30, BatchSize = 4, Seed = 1, Precision = TrainingPrecision.Float32 });

        var act = () => trainer.Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder);

        act.Should().Throw<InvalidOperationException>()
            .Which.Message.Should().Contain("convolution kernels are faulty (not the learning rate)")
            .And.Contain("CPU:").And.Contain("--threads 1").And.NotContain("Lower the learning rate");
        model.parameters().All(p => p.isfinite().all().item<bool>()).Should().BeTrue("the faulty step never reached the weights");
    }

    [Fact]
    public void A_real_divergence_still_gets_the_learning_rate_advice()
    {
        using var model = Network();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 50, BatchSize = 4, Seed = 1, Precision = TrainingPrecision.Float32, LearningRate = 1e12 });

        var act = () => trainer.Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder);

        act.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("Lower the learning rate");
    }

    [Fact]
    public void An_unknown_pinned_route_is_a_clear_error()
    {
        Environment.SetEnvironmentVariable(KernelRouting.PinVariable, "fastest");
        try
        {
            var act = () => KernelRouting.Pinned;
            act.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("DIFFUSIONKIT_KERNEL_ROUTE='fastest'").And.Contain("native, padded or reference");
        }
        finally
        {
            Environment.SetEnvironmentVariable(KernelRouting.PinVariable, null);
        }
    }
}
