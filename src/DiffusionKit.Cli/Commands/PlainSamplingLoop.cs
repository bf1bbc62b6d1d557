using System.Diagnostics;
using DiffusionKit.Models;
using static TorchSharp.torch;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// The benchmark's sampling baseline: the course's DDPM loop written by hand (no validation, no scheduler objects),
/// one dispose scope per step.
/// </summary>
internal static class PlainSamplingLoop
{
    /// <summary>Samples <paramref name="count"/> images over all 500 steps; returns the wall time.</summary>
    public static TimeSpan Run(ContextUnet model, Tensor context, int count)
    {
        const int T = 500;
        var beta = Enumerable.Range(0, T + 1).Select(t => 1e-4 + (0.0199 * t / T)).ToArray();
        var alphaBar = new double[T + 1];
        double log = 0;
        for (int t = 0; t <= T; t++)
        {
            log += Math.Log(1 - beta[t]);
            alphaBar[t] = t == 0 ? 1 : Math.Exp(log);
        }

        model.eval();
        using var generator = new Generator(1);
        using var noGrad = no_grad();
        var clock = Stopwatch.StartNew();
        var x = randn(new long[] { count, model.Channels, model.ImageSize, model.ImageSize }, generator: generator);
        for (int t = T; t >= 1; t--)
        {
            using var scope = NewDisposeScope();
            var eps = model.call(x, full(new long[] { count }, t / (double)T, dtype: ScalarType.Float32), context);
            var mean = (x - (eps * (beta[t] / Math.Sqrt(1 - alphaBar[t])))) / Math.Sqrt(1 - beta[t]);
            var next = t > 1 ? mean + (Math.Sqrt(beta[t]) * randn(x.shape, generator: generator)) : mean;
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
        }

        x.Dispose();
        return clock.Elapsed;
    }
}
