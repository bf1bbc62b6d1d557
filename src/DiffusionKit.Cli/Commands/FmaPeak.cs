using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Numerics;
using System.Runtime.Intrinsics;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// Measures this machine's float32 fused-multiply-add peak (GFLOP/s) over a given number of threads: the ceiling that
/// the benchmark's GFLOP/s figures are expressed against.
/// </summary>
/// <remarks>
/// Hand-written because no served library measures it: each thread runs a fixed number of iterations of 16 independent
/// vector FMA chains (enough to cover the FMA latency on current x86 and Arm cores) on the widest hardware-accelerated
/// vector (512 bits, else the platform's Vector&lt;float&gt; width), so the loop is bound by FMA throughput alone. Each FMA counts as 2 FLOP per lane. The
/// best of several repetitions is reported, so a brief stall elsewhere on the machine does not lower it.
/// </remarks>
internal static class FmaPeak
{
    private const int Chains = 16;

    /// <summary>The measured peak and the vector width it ran at.</summary>
    internal sealed record Result(double GigaFlops, int Threads, int VectorBits);

    /// <summary>Runs the measurement on <paramref name="threads"/> threads.</summary>
    public static Result Measure(int threads, long iterations = 4_000_000, int repetitions = 5)
    {
        int bits = Vector512.IsHardwareAccelerated ? 512 : Vector<float>.Count * 32;
        int lanes = bits / 32;
        double best = 0;
        for (int r = 0; r < repetitions; r++)
        {
            var sinks = new float[threads];
            var clock = Stopwatch.StartNew();
            Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, i => sinks[i] = bits switch
            {
                512 => Run512(iterations),
                _ => RunVector(iterations),
            });
            clock.Stop();
            double flops = 2.0 * lanes * Chains * iterations * threads;
            best = Math.Max(best, flops / clock.Elapsed.TotalSeconds / 1e9);
            GC.KeepAlive(sinks);
        }

        return new Result(best, threads, bits);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Run512(long iterations)
    {
        var a = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f);
        Vector512<float> c0 = Vector512.Create(1f), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector512<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector512.FusedMultiplyAdd(c0, a, b); c1 = Vector512.FusedMultiplyAdd(c1, a, b);
            c2 = Vector512.FusedMultiplyAdd(c2, a, b); c3 = Vector512.FusedMultiplyAdd(c3, a, b);
            c4 = Vector512.FusedMultiplyAdd(c4, a, b); c5 = Vector512.FusedMultiplyAdd(c5, a, b);
            c6 = Vector512.FusedMultiplyAdd(c6, a, b); c7 = Vector512.FusedMultiplyAdd(c7, a, b);
            c8 = Vector512.FusedMultiplyAdd(c8, a, b); c9 = Vector512.FusedMultiplyAdd(c9, a, b);
            c10 = Vector512.FusedMultiplyAdd(c10, a, b); c11 = Vector512.FusedMultiplyAdd(c11, a, b);
            c12 = Vector512.FusedMultiplyAdd(c12, a, b); c13 = Vector512.FusedMultiplyAdd(c13, a, b);
            c14 = Vector512.FusedMultiplyAdd(c14, a, b); c15 = Vector512.FusedMultiplyAdd(c15, a, b);
        }

        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float RunVector(long iterations)
    {
        var a = new Vector<float>(0.999999f);
        var b = new Vector<float>(1e-7f);
        Vector<float> c0 = Vector<float>.One, c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        Vector<float> c8 = c0, c9 = c0, c10 = c0, c11 = c0, c12 = c0, c13 = c0, c14 = c0, c15 = c0;
        for (long i = 0; i < iterations; i++)
        {
            c0 = Vector.FusedMultiplyAdd(c0, a, b); c1 = Vector.FusedMultiplyAdd(c1, a, b);
            c2 = Vector.FusedMultiplyAdd(c2, a, b); c3 = Vector.FusedMultiplyAdd(c3, a, b);
            c4 = Vector.FusedMultiplyAdd(c4, a, b); c5 = Vector.FusedMultiplyAdd(c5, a, b);
            c6 = Vector.FusedMultiplyAdd(c6, a, b); c7 = Vector.FusedMultiplyAdd(c7, a, b);
            c8 = Vector.FusedMultiplyAdd(c8, a, b); c9 = Vector.FusedMultiplyAdd(c9, a, b);
            c10 = Vector.FusedMultiplyAdd(c10, a, b); c11 = Vector.FusedMultiplyAdd(c11, a, b);
            c12 = Vector.FusedMultiplyAdd(c12, a, b); c13 = Vector.FusedMultiplyAdd(c13, a, b);
            c14 = Vector.FusedMultiplyAdd(c14, a, b); c15 = Vector.FusedMultiplyAdd(c15, a, b);
        }

        var sum = c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11 + c12 + c13 + c14 + c15;
        return Vector.Sum(sum);
    }
}
