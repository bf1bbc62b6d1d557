using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// The course's linear variance schedule, precomputed in float64: <c>beta_t = (beta2 - beta1)·t/T + beta1</c> for
/// <c>t = 0..T</c>, <c>a_t = 1 - beta_t</c>, <c>ab_t = exp(cumsum(log a_t))</c> with <c>ab_0 = 1</c>.
/// </summary>
/// <remarks>Immutable and thread-safe. Shared by the schedulers; holds no loop state.</remarks>
public sealed class NoiseSchedule
{
    private readonly double[] _betas;
    private readonly double[] _alphas;
    private readonly double[] _alphaBars;

    /// <summary>Creates the schedule.</summary>
    /// <param name="trainTimesteps">T, at least 1. Default 500 (the course).</param>
    /// <param name="betaStart">beta1, in (0, 1). Default 1e-4.</param>
    /// <param name="betaEnd">beta2, in [beta1, 1). Default 0.02.</param>
    /// <exception cref="ArgumentOutOfRangeException">When a value is outside its range.</exception>
    public NoiseSchedule(int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
    {
        if (trainTimesteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(trainTimesteps), trainTimesteps, "The number of training timesteps must be at least 1 (the course uses 500).");
        }

        if (!(betaStart > 0 && betaStart < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(betaStart), betaStart, "beta1 must lie in (0, 1) (the course uses 1e-4).");
        }

        if (!(betaEnd >= betaStart && betaEnd < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(betaEnd), betaEnd, $"beta2 must lie in [beta1 = {betaStart}, 1) (the course uses 0.02).");
        }

        TrainTimesteps = trainTimesteps;
        BetaStart = betaStart;
        BetaEnd = betaEnd;
        _betas = new double[trainTimesteps + 1];
        _alphas = new double[trainTimesteps + 1];
        _alphaBars = new double[trainTimesteps + 1];
        double logSum = 0;
        for (int t = 0; t <= trainTimesteps; t++)
        {
            _betas[t] = ((betaEnd - betaStart) * t / trainTimesteps) + betaStart;
            _alphas[t] = 1 - _betas[t];
            logSum += Math.Log(_alphas[t]);
            _alphaBars[t] = t == 0 ? 1.0 : Math.Exp(logSum);
        }

        SqrtAlphaBars = tensor(_alphaBars.Select(Math.Sqrt).Select(v => (float)v).ToArray());
        SqrtOneMinusAlphaBars = tensor(_alphaBars.Select(a => Math.Sqrt(1 - a)).Select(v => (float)v).ToArray());
    }

    /// <summary>T, the number of training timesteps; valid timesteps are 1..T.</summary>
    public int TrainTimesteps { get; }

    /// <summary>beta1, the variance at t = 0.</summary>
    public double BetaStart { get; }

    /// <summary>beta2, the variance at t = T.</summary>
    public double BetaEnd { get; }

    /// <summary>beta_t for t = 0..T (length T + 1).</summary>
    public IReadOnlyList<double> Betas => _betas;

    /// <summary>a_t = 1 - beta_t for t = 0..T.</summary>
    public IReadOnlyList<double> Alphas => _alphas;

    /// <summary>ab_t, the cumulative product of a, for t = 0..T, with ab_0 = 1.</summary>
    public IReadOnlyList<double> AlphaBars => _alphaBars;

    /// <summary>sqrt(ab_t) as a float32 CPU tensor [T + 1]; shared, never dispose it.</summary>
    internal Tensor SqrtAlphaBars { get; }

    /// <summary>sqrt(1 - ab_t) as a float32 CPU tensor [T + 1]; shared, never dispose it.</summary>
    internal Tensor SqrtOneMinusAlphaBars { get; }

    /// <summary>The forward process <c>sqrt(ab_t)·x0 + sqrt(1 - ab_t)·noise</c>, validated.</summary>
    internal Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        ArgumentNullException.ThrowIfNull(originalSamples);
        ArgumentNullException.ThrowIfNull(noise);
        ArgumentNullException.ThrowIfNull(timesteps);
        if (originalSamples.dim() < 1)
        {
            throw new ArgumentException("originalSamples must have a batch dimension, e.g. [B, C, H, W].", nameof(originalSamples));
        }

        if (!noise.shape.SequenceEqual(originalSamples.shape))
        {
            throw new ArgumentException($"noise must have the shape of originalSamples [{string.Join(", ", originalSamples.shape)}] but has [{string.Join(", ", noise.shape)}].", nameof(noise));
        }

        long batch = originalSamples.shape[0];
        if (timesteps.dim() != 1 || timesteps.shape[0] != batch || timesteps.dtype != ScalarType.Int64)
        {
            throw new ArgumentException($"timesteps must be an int64 tensor of shape [{batch}] (one per sample) but is {timesteps.dtype} [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        }

        if (batch > 0)
        {
            long min = timesteps.min().item<long>();
            long max = timesteps.max().item<long>();
            if (min < 1 || max > TrainTimesteps)
            {
                throw new ArgumentOutOfRangeException(nameof(timesteps), $"timesteps must lie in 1..{TrainTimesteps} but range over {min}..{max}.");
            }
        }

        using var scope = NewDisposeScope();
        var device = originalSamples.device;
        var shape = new long[originalSamples.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var index = timesteps.to(SqrtAlphaBars.device);
        var a = SqrtAlphaBars.index_select(0, index).to(device).to(originalSamples.dtype).view(shape);
        var b = SqrtOneMinusAlphaBars.index_select(0, index).to(device).to(originalSamples.dtype).view(shape);
        return (a * originalSamples + b * noise).MoveToOuterDisposeScope();
    }

    /// <summary>Fresh standard-normal noise shaped like <paramref name="like"/>, drawn on the CPU (so the same seed gives the same noise on every device).</summary>
    internal static Tensor NoiseLike(Tensor like, Generator? generator)
    {
        var noise = randn(like.shape, dtype: ScalarType.Float32, device: CPU, generator: generator);
        if (like.device_type == DeviceType.CPU && like.dtype == ScalarType.Float32)
        {
            return noise;
        }

        using (noise)
        {
            return noise.to(like.dtype, like.device);
        }
    }

    /// <summary>Checks the common arguments of a scheduler step.</summary>
    internal static void ValidateStep(Tensor modelOutput, Tensor sample)
    {
        ArgumentNullException.ThrowIfNull(modelOutput);
        ArgumentNullException.ThrowIfNull(sample);
        if (!modelOutput.shape.SequenceEqual(sample.shape))
        {
            throw new ArgumentException($"modelOutput must have the shape of sample [{string.Join(", ", sample.shape)}] but has [{string.Join(", ", modelOutput.shape)}].", nameof(modelOutput));
        }
    }
}
