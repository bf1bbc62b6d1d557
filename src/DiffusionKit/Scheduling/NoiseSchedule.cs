using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// The variance schedule shared by every scheduler, precomputed in float64: betas, <c>a_t = 1 - beta_t</c> and the
/// cumulative products <c>ab_t</c>. By default it is the course's: <c>beta_t = (beta2 - beta1)·t/T + beta1</c> for
/// <c>t = 0..T</c>, <c>ab_t = exp(cumsum(log a_t))</c> with <c>ab_0 = 1</c>.
/// </summary>
/// <remarks>
/// <para>With <see cref="ScheduleConvention.Diffusers"/> there are T betas over <c>t = 0..T-1</c> laid out as diffusers
/// does (<c>linspace(beta_start, beta_end, T)</c> for linear) and <c>ab_t = prod_{s&lt;=t}(1 - beta_s)</c>.</para>
/// <para>Immutable and thread-safe. Shared by the schedulers; holds no loop state.</para>
/// </remarks>
public sealed class NoiseSchedule
{
    private readonly double[] _betas;
    private readonly double[] _alphas;
    private readonly double[] _alphaBars;

    /// <summary>Creates the course's linear schedule.</summary>
    /// <param name="trainTimesteps">T, at least 1. Default 500 (the course).</param>
    /// <param name="betaStart">beta1, in (0, 1). Default 1e-4.</param>
    /// <param name="betaEnd">beta2, in [beta1, 1). Default 0.02.</param>
    /// <exception cref="ArgumentOutOfRangeException">When a value is outside its range.</exception>
    public NoiseSchedule(int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
        : this(trainTimesteps, betaStart, betaEnd, BetaSchedule.Linear, ScheduleConvention.Course)
    {
    }

    /// <summary>Creates the schedule <paramref name="options"/> describe (only the schedule options are read).</summary>
    /// <param name="options">Validated scheduler options.</param>
    /// <exception cref="ArgumentOutOfRangeException">When an option is outside its range.</exception>
    public NoiseSchedule(SchedulerOptions options)
        : this((options ?? throw new ArgumentNullException(nameof(options))).TrainTimesteps, options.BetaStart, options.BetaEnd, options.BetaSchedule, options.Convention)
    {
    }

    /// <summary>Creates a schedule.</summary>
    /// <param name="trainTimesteps">T, at least 1.</param>
    /// <param name="betaStart">beta1, in (0, 1); unused by <see cref="BetaSchedule.SquaredCosCapV2"/> but still validated.</param>
    /// <param name="betaEnd">beta2, in [beta1, 1); unused by <see cref="BetaSchedule.SquaredCosCapV2"/> but still validated.</param>
    /// <param name="betaSchedule">The layout of the betas.</param>
    /// <param name="convention">How timesteps are indexed.</param>
    /// <exception cref="ArgumentOutOfRangeException">When a value is outside its range or an enum value is undefined.</exception>
    public NoiseSchedule(int trainTimesteps, double betaStart, double betaEnd, BetaSchedule betaSchedule, ScheduleConvention convention)
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

        if (!Enum.IsDefined(betaSchedule))
        {
            throw new ArgumentOutOfRangeException(nameof(betaSchedule), betaSchedule, $"betaSchedule must be one of {string.Join(", ", Enum.GetNames<BetaSchedule>())}.");
        }

        if (!Enum.IsDefined(convention))
        {
            throw new ArgumentOutOfRangeException(nameof(convention), convention, $"convention must be one of {string.Join(", ", Enum.GetNames<ScheduleConvention>())}.");
        }

        TrainTimesteps = trainTimesteps;
        BetaStart = betaStart;
        BetaEnd = betaEnd;
        BetaScheduleKind = betaSchedule;
        Convention = convention;
        bool course = convention == ScheduleConvention.Course;

        // Course: T + 1 values over t = 0..T (positions t/T); diffusers: T values over t = 0..T-1 (positions t/(T-1)).
        int count = course ? trainTimesteps + 1 : trainTimesteps;
        _betas = new double[count];
        _alphas = new double[count];
        _alphaBars = new double[count];
        double logSum = 0;
        double product = 1;
        for (int t = 0; t < count; t++)
        {
            _betas[t] = Beta(t, count, betaStart, betaEnd, betaSchedule, course, trainTimesteps);
            _alphas[t] = 1 - _betas[t];
            if (course)
            {
                logSum += Math.Log(_alphas[t]);
                _alphaBars[t] = t == 0 ? 1.0 : Math.Exp(logSum);
            }
            else
            {
                product *= _alphas[t];
                _alphaBars[t] = product;
            }
        }

        SqrtAlphaBars = tensor(_alphaBars.Select(Math.Sqrt).Select(v => (float)v).ToArray());
        SqrtOneMinusAlphaBars = tensor(_alphaBars.Select(a => Math.Sqrt(1 - a)).Select(v => (float)v).ToArray());
    }

    /// <summary>T, the number of training timesteps; valid timesteps are <see cref="FirstTimestep"/>..<see cref="LastTimestep"/>.</summary>
    public int TrainTimesteps { get; }

    /// <summary>How timesteps are indexed.</summary>
    public ScheduleConvention Convention { get; }

    /// <summary>The layout of the betas.</summary>
    public BetaSchedule BetaScheduleKind { get; }

    /// <summary>The smallest training timestep: 1 in the course's convention, 0 in diffusers'.</summary>
    public int FirstTimestep => Convention == ScheduleConvention.Course ? 1 : 0;

    /// <summary>The largest training timestep: T in the course's convention, T - 1 in diffusers'.</summary>
    public int LastTimestep => Convention == ScheduleConvention.Course ? TrainTimesteps : TrainTimesteps - 1;

    /// <summary>beta1, the first variance of a linear or scaled-linear schedule.</summary>
    public double BetaStart { get; }

    /// <summary>beta2, the last variance of a linear or scaled-linear schedule.</summary>
    public double BetaEnd { get; }

    /// <summary>beta_t for t = 0..T (length T + 1) in the course's convention, t = 0..T-1 (length T) in diffusers'.</summary>
    public IReadOnlyList<double> Betas => _betas;

    /// <summary>a_t = 1 - beta_t, indexed like <see cref="Betas"/>.</summary>
    public IReadOnlyList<double> Alphas => _alphas;

    /// <summary>ab_t, the cumulative product of a, indexed like <see cref="Betas"/> (ab_0 = 1 in the course's convention).</summary>
    public IReadOnlyList<double> AlphaBars => _alphaBars;

    /// <summary>sqrt(ab_t) as a float32 CPU tensor [T + 1]; shared, never dispose it.</summary>
    internal Tensor SqrtAlphaBars { get; }

    /// <summary>sqrt(1 - ab_t) as a float32 CPU tensor [T + 1]; shared, never dispose it.</summary>
    internal Tensor SqrtOneMinusAlphaBars { get; }

    /// <summary>ab at <paramref name="timestep"/>, or <paramref name="final"/> before the first index (diffusers' step past timestep 0).</summary>
    internal double AlphaBarOrFinal(int timestep, double final) => timestep >= 0 ? _alphaBars[timestep] : final;

    /// <summary>The forward process <c>sqrt(ab_t)·x0 + sqrt(1 - ab_t)·noise</c>, validated.</summary>
    internal Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(originalSamples, noise, timesteps);
        return (a * originalSamples + b * noise).MoveToOuterDisposeScope();
    }

    /// <summary>The training target for <paramref name="predictionType"/>: noise, x0, or <c>sqrt(ab_t)·noise - sqrt(1 - ab_t)·x0</c>.</summary>
    internal Tensor TrainingTarget(PredictionType predictionType, Tensor originalSamples, Tensor noise, Tensor timesteps)
    {
        using var scope = NewDisposeScope();
        var (a, b) = Coefficients(originalSamples, noise, timesteps);
        var target = predictionType switch
        {
            PredictionType.Epsilon => noise.alias(),
            PredictionType.Sample => originalSamples.alias(),
            PredictionType.VPrediction => (a * noise) - (b * originalSamples),
            _ => throw new ArgumentOutOfRangeException(nameof(predictionType), predictionType, "Unknown prediction type."),
        };
        return target.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Per-sample Min-SNR-γ loss weights (Hang et al. 2023) for a model trained on <paramref name="predictionType"/>'s
    /// target, with <c>SNR(t) = ab_t/(1 - ab_t)</c>: <c>min(SNR, γ)/SNR</c> for epsilon, <c>min(SNR, γ)/(SNR + 1)</c> for
    /// v_prediction and <c>min(SNR, γ)</c> for sample — in each case the weight on the implied x0 error is min(SNR, γ).
    /// </summary>
    /// <param name="predictionType">The target the model is trained on.</param>
    /// <param name="timesteps">Int64 tensor of shape [B] with values in <see cref="FirstTimestep"/>..<see cref="LastTimestep"/>.</param>
    /// <param name="gamma">The SNR cap γ, finite and &gt; 0 (5 in the paper).</param>
    /// <returns>A float32 tensor of shape [B] on the CPU, owned by the caller.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When γ is not finite and positive, or a timestep is out of range.</exception>
    /// <exception cref="ArgumentException">When <paramref name="timesteps"/> is not a 1-D int64 tensor.</exception>
    public Tensor MinSnrLossWeights(PredictionType predictionType, Tensor timesteps, double gamma)
    {
        ArgumentNullException.ThrowIfNull(timesteps);
        if (!(double.IsFinite(gamma) && gamma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "The Min-SNR cap gamma must be a finite number > 0 (the paper uses 5).");
        }

        CheckTimesteps(timesteps, batch: null);
        long[] steps = timesteps.cpu().data<long>().ToArray();
        var weights = new float[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            double alphaBar = _alphaBars[steps[i]];
            double snr = alphaBar / (1 - alphaBar);
            double capped = Math.Min(snr, gamma);
            weights[i] = (float)(predictionType switch
            {
                PredictionType.Epsilon => capped / snr,
                PredictionType.VPrediction => capped / (snr + 1),
                PredictionType.Sample => capped,
                _ => throw new ArgumentOutOfRangeException(nameof(predictionType), predictionType, $"predictionType must be one of {string.Join(", ", Enum.GetNames<PredictionType>())}."),
            });
        }

        return tensor(weights);
    }

    /// <summary>
    /// The model's estimate of x0 and of the noise from its output at a timestep with cumulative product
    /// <paramref name="alphaBar"/> (diffusers' <c>pred_original_sample</c> and <c>pred_epsilon</c>). Tensors join the
    /// caller's dispose scope.
    /// </summary>
    internal static (Tensor Original, Tensor Epsilon) Predict(PredictionType predictionType, Tensor modelOutput, Tensor sample, double alphaBar)
    {
        double sa = Math.Sqrt(alphaBar);
        double sb = Math.Sqrt(1 - alphaBar);
        return predictionType switch
        {
            PredictionType.Epsilon => ((sample - (sb * modelOutput)) / sa, modelOutput.alias()),
            PredictionType.Sample => (modelOutput.alias(), (sample - (sa * modelOutput)) / sb),
            PredictionType.VPrediction => ((sa * sample) - (sb * modelOutput), (sa * modelOutput) + (sb * sample)),
            _ => throw new ArgumentOutOfRangeException(nameof(predictionType), predictionType, "Unknown prediction type."),
        };
    }

    /// <summary>Clamps <paramref name="original"/> to ±range when <paramref name="clip"/> is set (diffusers' <c>clip_sample</c>).</summary>
    internal static Tensor Clip(Tensor original, bool clip, double range) => clip ? original.clamp(-range, range) : original;

    private (Tensor A, Tensor B) Coefficients(Tensor originalSamples, Tensor noise, Tensor timesteps)
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

        CheckTimesteps(timesteps, originalSamples.shape[0]);

        var device = originalSamples.device;
        var shape = new long[originalSamples.dim()];
        Array.Fill(shape, 1L);
        shape[0] = -1;
        var index = timesteps.to(SqrtAlphaBars.device);
        var a = SqrtAlphaBars.index_select(0, index).to(device).to(originalSamples.dtype).view(shape);
        var b = SqrtOneMinusAlphaBars.index_select(0, index).to(device).to(originalSamples.dtype).view(shape);
        return (a, b);
    }

    /// <summary>Checks that <paramref name="timesteps"/> is a 1-D int64 tensor (of <paramref name="batch"/> entries when given) within FirstTimestep..LastTimestep.</summary>
    private void CheckTimesteps(Tensor timesteps, long? batch)
    {
        if (timesteps.dim() != 1 || (batch is { } b && timesteps.shape[0] != b) || timesteps.dtype != ScalarType.Int64)
        {
            string shape = batch is { } n ? $"[{n}]" : "[B]";
            throw new ArgumentException($"timesteps must be an int64 tensor of shape {shape} (one per sample) but is {timesteps.dtype} [{string.Join(", ", timesteps.shape)}].", nameof(timesteps));
        }

        if (timesteps.shape[0] > 0)
        {
            long min = timesteps.min().item<long>();
            long max = timesteps.max().item<long>();
            if (min < FirstTimestep || max > LastTimestep)
            {
                throw new ArgumentOutOfRangeException(nameof(timesteps), $"timesteps must lie in {FirstTimestep}..{LastTimestep} but range over {min}..{max}.");
            }
        }
    }

    private static double Beta(int t, int count, double betaStart, double betaEnd, BetaSchedule schedule, bool course, int trainTimesteps)
    {
        // Position in [0, 1]: the course spaces t = 0..T by t/T (its exact formula is kept); diffusers uses linspace(.., T).
        double position = course ? (double)t / trainTimesteps : (count == 1 ? 0 : (double)t / (count - 1));
        switch (schedule)
        {
            case BetaSchedule.Linear:
                return course ? ((betaEnd - betaStart) * t / trainTimesteps) + betaStart : betaStart + ((betaEnd - betaStart) * position);
            case BetaSchedule.ScaledLinear:
                double root = Math.Sqrt(betaStart) + ((Math.Sqrt(betaEnd) - Math.Sqrt(betaStart)) * position);
                return root * root;
            default:
                // squaredcos_cap_v2 (diffusers' betas_for_alpha_bar): beta_i = min(1 - f((i + 1)/N) / f(i/N), 0.999).
                static double F(double x) => Math.Pow(Math.Cos((x + 0.008) / 1.008 * Math.PI / 2), 2);
                return Math.Min(1 - (F((double)(t + 1) / count) / F((double)t / count)), 0.999);
        }
    }

    /// <summary>Fresh standard-normal noise shaped like <paramref name="like"/> from <paramref name="source"/>, which draws it on the CPU (so the same seed gives the same noise on every device).</summary>
    internal static Tensor NoiseLike(Tensor like, INoiseSource source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var noise = source.StandardNormal(like.shape);
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
