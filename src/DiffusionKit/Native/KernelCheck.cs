using System.Collections.Concurrent;
using System.Globalization;
using DiffusionKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Native;

/// <summary>
/// The numerics check run before a network (any <see cref="DenoiserModule"/>) is trusted: one forward (and, for training, backward) pass of a copy of the
/// actual network in the dtype about to be used, compared with the same pass in float64, whose convolutions take
/// libtorch's reference kernels instead of oneDNN's. The first <see cref="KernelRoute"/> that agrees is put in force.
/// </summary>
/// <remarks>
/// <para>
/// Why: oneDNN's convolutions return NaN or wrong values on some CPUs (AMD Zen 5 with libtorch 2.10; docs/training.md,
/// "Faulty CPU kernels"), and a new CPU can have faults nobody has seen. At the demo's size (batch
/// <see cref="CheckBatch"/>) the check took 0.2–0.8 s on a 2-core Zen 5, 1.5 s for a process's first (oneDNN generates its
/// kernels then); it runs once per process, network shape, dtype, pass and thread count, and never touches the caller's
/// network (it works on copies).
/// </para>
/// <para>Routes are tried fastest first: native, then padded channels, then (float32 only) oneDNN switched off.</para>
/// </remarks>
internal static class KernelCheck
{
    /// <summary>Images in the check's batch.</summary>
    internal const int CheckBatch = 8;

    /// <summary>The largest relative error (‖candidate − reference‖ / ‖reference‖ over the output and every gradient) float32 may show.</summary>
    internal const double Float32Tolerance = 1e-3;

    /// <summary>The same for bfloat16, whose 8-bit mantissa gives up to 15% on its own at n_feat 8 (5% at 32) against float64 on the same rounded weights and inputs; the faults seen give NaN (whole network) or 20–100% (one convolution).</summary>
    internal const double BFloat16Tolerance = 0.25;

    private static readonly ConcurrentDictionary<string, KernelCheckResult> Results = new(StringComparer.Ordinal);
    private static readonly object Gate = new();
    private static readonly ConcurrentDictionary<string, bool> Warned = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static bool _checking;

    /// <summary>
    /// The check a network runs on its own first call in a dtype (<see cref="DenoiserModule.PredictNoise"/>, and
    /// <c>forward</c> where the network calls <c>EnsureKernelsChecked</c>, as <see cref="ContextUnet"/> does): cached like <see cref="Ensure"/>, skipped inside a check's own passes; its warning goes to
    /// <see cref="System.Diagnostics.Trace"/>.
    /// </summary>
    internal static void EnsureOnFirstCall(DenoiserModule model, ScalarType dtype, bool backward)
    {
        if (_checking || (dtype != ScalarType.Float32 && dtype != ScalarType.BFloat16) || model.parameters().Any(p => p.dtype != dtype))
        {
            return;
        }

        if (Ensure(model, dtype, backward).Warning is { } warning && Warned.TryAdd(warning, true))
        {
            System.Diagnostics.Trace.TraceWarning(warning);
        }
    }

    /// <summary>Checks <paramref name="model"/> in <paramref name="dtype"/> (cached), puts the first passing route in force and returns the outcome.</summary>
    /// <param name="model">The network (not modified).</param>
    /// <param name="dtype">Float32 or BFloat16.</param>
    /// <param name="backward">Also compare the gradients (training).</param>
    internal static KernelCheckResult Ensure(DenoiserModule model, ScalarType dtype, bool backward)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Device.type != DeviceType.CPU)
        {
            return new KernelCheckResult(dtype, KernelRoute.Native, true, 0, null);
        }

        string key = string.Join('|', model.ArchitectureKey(), dtype, backward, torch.get_num_threads());
        lock (Gate)
        {
            if (Results.TryGetValue(key, out var cached))
            {
                return cached;
            }

            _checking = true;
            try
            {
                var result = Run(model, dtype, backward, inputs: null);
                Results[key] = result;
                return result;
            }
            finally
            {
                _checking = false;
            }
        }
    }

    /// <summary>
    /// Re-checks after a training step went non-finite: the same comparison on the step's own rows, against the route in
    /// force now. Returns whether the reference is finite (else the divergence is the model's, not the kernels') and
    /// the route now in force.
    /// </summary>
    internal static (bool ReferenceFinite, KernelCheckResult Result) Diagnose(DenoiserModule model, ScalarType dtype, Tensor sample, Tensor time, Tensor? context)
    {
        lock (Gate)
        {
            _checking = true;
            try
            {
                return DiagnoseLocked(model, dtype, sample, time, context);
            }
            finally
            {
                _checking = false;
            }
        }
    }

    private static (bool ReferenceFinite, KernelCheckResult Result) DiagnoseLocked(DenoiserModule model, ScalarType dtype, Tensor sample, Tensor time, Tensor? context)
    {
        using var scope = NewDisposeScope();
        long rows = Math.Min(sample.shape[0], 16);
        var inputs = new CheckInputs(sample.narrow(0, 0, rows).to(ScalarType.Float32), time.narrow(0, 0, rows).to(ScalarType.Float32).reshape(rows), context?.narrow(0, 0, rows).to(ScalarType.Float32));
        using (var reference = model.CopyAs(ScalarType.Float64))
        {
            var (output, grads) = Pass(reference, inputs, ScalarType.Float64, backward: true);
            if (!AllFinite(output, grads))
            {
                return (false, new KernelCheckResult(dtype, KernelRouting.RouteFor(dtype), false, double.NaN, null));
            }
        }

        return (true, Run(model, dtype, backward: true, inputs, afterCurrent: true));
    }

    /// <summary>Test hook: forgets every cached result and puts the native route back, so the next call checks again.</summary>
    internal static void ResetForTests()
    {
        lock (Gate)
        {
            Results.Clear();
            Warned.Clear();
            KernelRouting.Reset();
        }
    }

    private static KernelCheckResult Run(DenoiserModule model, ScalarType dtype, bool backward, CheckInputs? inputs, bool afterCurrent = false)
    {
        var pinned = KernelRouting.Pinned;
        if (pinned is { } pin)
        {
            KernelRouting.Use(dtype, pin);
            return new KernelCheckResult(dtype, pin, true, 0, null);
        }

        using var scope = NewDisposeScope();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        inputs ??= CheckInputs.Create(model);
        Tensor refOutput;
        Tensor[] refGrads;
        // bfloat16 is compared with float64 arithmetic on the bfloat16-rounded weights and inputs, so the tolerance measures
        // the kernels, not the rounding of what they are given.
        using (var rounded = dtype == ScalarType.BFloat16 ? model.CopyAs(ScalarType.BFloat16) : null)
        using (var reference = (rounded ?? model).CopyAs(ScalarType.Float64))
        {
            (refOutput, refGrads) = Pass(reference, dtype == ScalarType.BFloat16 ? inputs.RoundedTo(dtype) : inputs, ScalarType.Float64, backward);
        }

        // A gradient that is zero in exact arithmetic (a convolution bias ahead of BatchNorm) is measured against the
        // largest gradient's scale, not its own.
        double gradientFloor = refGrads.Length == 0 ? 0 : refGrads.Max(g => g.norm().item<double>()) * 1e-2;
        double tolerance = dtype == ScalarType.BFloat16 ? BFloat16Tolerance : Float32Tolerance;
        var routes = new List<KernelRoute> { KernelRoute.Native, KernelRoute.PaddedChannels };
        if (dtype == ScalarType.Float32 && KernelRouting.CanUseReferenceKernels)
        {
            routes.Add(KernelRoute.ReferenceKernels);
        }

        var previous = KernelRouting.RouteFor(dtype);
        var tried = new List<string>();
        double firstError = double.NaN;
        // Routes only ever move towards the safe end: a later check never undoes an earlier one's finding.
        foreach (var route in routes.Where(r => afterCurrent ? r > previous : r >= previous))
        {
            KernelRouting.Use(dtype, route);
            double error = 0;
            using (var candidate = model.CopyAs(dtype))
            {
                // Twice: the faults seen so far strike in most calls, not all.
                for (int repeat = 0; repeat < 3 && error <= tolerance; repeat++)
                {
                    using var inner = NewDisposeScope();
                    var (output, grads) = Pass(candidate, inputs, dtype, backward);
                    error = Math.Max(error, Error(output, refOutput, 0));
                    for (int i = 0; i < grads.Length; i++)
                    {
                        error = Math.Max(error, Error(grads[i], refGrads[i], gradientFloor));
                    }
                }
            }

            if (tried.Count == 0)
            {
                firstError = double.IsFinite(error) ? error : double.NaN;
            }

            System.Diagnostics.Debug.WriteLine($"kernel check {dtype} {route}: {error}");
            tried.Add($"{route}: {(double.IsFinite(error) ? error.ToString("G2", CultureInfo.InvariantCulture) : "non-finite")}");
            if (error <= tolerance)
            {
                string? warning = route == KernelRoute.Native ? null : Warning(dtype, route, tried, backward, clock.Elapsed);
                return new KernelCheckResult(dtype, route, true, error, warning);
            }

            if (route == KernelRoute.ReferenceKernels)
            {
                KernelRouting.Reset();
                KernelRouting.Use(ScalarType.Float32, previous == KernelRoute.ReferenceKernels ? KernelRoute.PaddedChannels : previous);
            }
        }

        // Nothing passed: leave the safest route that can run in force and say so.
        KernelRouting.Use(dtype, previous > KernelRoute.PaddedChannels ? previous : KernelRoute.PaddedChannels);
        return new KernelCheckResult(dtype, KernelRouting.RouteFor(dtype), false, firstError, Warning(dtype, null, tried, backward, clock.Elapsed));
    }

    private static (Tensor Output, Tensor[] Grads) Pass(DenoiserModule network, CheckInputs inputs, ScalarType dtype, bool backward)
    {
        // Eval mode: BatchNorm uses its running statistics, so the pass is linear in the convolutions' results and
        // bfloat16's own rounding stays small (in training mode a batch of 4 amplifies it to 25% with any kernels).
        network.eval();

        network.zero_grad();
        using var grad = backward ? enable_grad() : no_grad();
        var x = inputs.Sample.to(dtype);
        var t = inputs.Time.to(dtype);
        var c = inputs.Context?.to(dtype);
        var output = network.forward(x, t, c);
        if (!backward)
        {
            return (output.to(ScalarType.Float64), Array.Empty<Tensor>());
        }

        var direction = inputs.Direction(output.shape).to(dtype);
        (output * direction).sum().backward();
        var grads = network.parameters().Select(p => p.grad is null ? zeros(1, dtype: ScalarType.Float64) : p.grad.to(ScalarType.Float64).clone()).ToArray();
        return (output.detach().to(ScalarType.Float64), grads);
    }

    private static double Error(Tensor candidate, Tensor reference, double floor)
    {
        double difference = (candidate - reference).norm().item<double>();
        double scale = reference.norm().item<double>();
        return difference / Math.Max(Math.Max(scale, floor), 1e-30);
    }

    private static bool AllFinite(Tensor output, Tensor[] grads)
        => output.isfinite().all().item<bool>() && grads.All(g => g.isfinite().all().item<bool>());

    private static string Warning(ScalarType dtype, KernelRoute? chosen, List<string> tried, bool backward, TimeSpan elapsed)
    {
        string what = chosen is { } route
            ? $"using the {Describe(route)} route instead (same arithmetic; pin a route with {KernelRouting.PinVariable}=native|padded|reference)"
            : dtype == ScalarType.BFloat16 ? "bfloat16 is not usable here; float32 is used" : "no route agrees with the reference";
        return $"DiffusionKit: this CPU's convolution kernels gave wrong {(backward ? "values or gradients" : "values")} in {DisplayName(dtype)} with {torch.get_num_threads()} thread(s) "
            + $"(relative error against float64: {string.Join(", ", tried)}; checked in {elapsed.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture)} s); {what}. CPU: {CpuDescription.Summary}; {CpuDescription.Libraries}.";
    }

    private static string Describe(KernelRoute route) => route switch
    {
        KernelRoute.Native => "native",
        KernelRoute.PaddedChannels => $"padded-channels (multiples of {KernelRouting.ChannelBlock})",
        KernelRoute.ReferenceKernels => "reference-kernels (oneDNN off, slower)",
        _ => throw new ArgumentOutOfRangeException(nameof(route), route, "Unknown kernel route."),
    };

    private static string DisplayName(ScalarType dtype) => dtype == ScalarType.BFloat16 ? "bfloat16" : "float32";

    /// <summary>The check's inputs in float32: images, times, contexts and the backward direction.</summary>
    private sealed record CheckInputs(Tensor Sample, Tensor Time, Tensor? Context)
    {
        public static CheckInputs Create(DenoiserModule model)
        {
            using var generator = new Generator(20261206);
            var sample = randn(new long[] { CheckBatch, model.Channels, model.ImageSize, model.ImageSize }, generator: generator);
            var time = rand(new long[] { CheckBatch }, generator: generator);
            var context = randn(new long[] { CheckBatch, model.ContextSize }, generator: generator);
            return new CheckInputs(sample, time, context);
        }

        /// <summary>The backward pass's direction: bfloat16-representable values, so every dtype gets it exactly.</summary>
        public Tensor Direction(long[] shape)
        {
            using var generator = new Generator(7);
            return randn(shape, generator: generator).to(ScalarType.BFloat16).to(ScalarType.Float32);
        }

        /// <summary>These inputs rounded to <paramref name="dtype"/> (kept in float32).</summary>
        public CheckInputs RoundedTo(ScalarType dtype)
            => new(Sample.to(dtype).to(ScalarType.Float32), Time.to(dtype).to(ScalarType.Float32), Context?.to(dtype).to(ScalarType.Float32));
    }
}
