using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// DPM-Solver++ 2M (Lu et al. 2022, algorithm 2, midpoint form): a deterministic multistep solver that reaches good
/// samples in 15-20 steps, as diffusers' <c>DPMSolverMultistepScheduler</c> with <c>algorithm_type="dpmsolver++"</c>
/// and <c>solver_type="midpoint"</c>.
/// </summary>
/// <remarks>
/// <para>Each visited timestep t_i has <c>sigma_i = sqrt((1 - ab)/ab)</c>, <c>alpha_i = 1/sqrt(sigma_i^2 + 1)</c>,
/// <c>s_i = sigma_i·alpha_i</c> and <c>lambda_i = log(alpha_i) - log(s_i)</c>; after the last timestep sigma = 0 (the
/// clean sample; or the first training timestep's sigma with <see cref="FinalSigmas.SigmaMin"/>). With x0 predictions m_i (converted from the model output) and <c>h = lambda_{i+1} - lambda_i</c>:
/// first order <c>x_{i+1} = s_{i+1}/s_i·x_i - alpha_{i+1}·(exp(-h) - 1)·m_i</c>; second order adds
/// <c>-0.5·alpha_{i+1}·(exp(-h) - 1)·D1</c> with <c>D1 = (m_i - m_{i-1})·h/h_{i-1}</c>.</para>
/// <para>SDE variant (<see cref="SamplerKind.DpmSolverMultistepSde"/>, diffusers' <c>sde-dpmsolver++</c>):
/// <c>x_{i+1} = s_{i+1}/s_i·exp(-h)·x_i + alpha_{i+1}·(1 - exp(-2h))·(m_i + 0.5·D1) + s_{i+1}·sqrt(1 - exp(-2h))·z</c>
/// (D1 only on second-order steps), z fresh standard-normal noise from the loop's generator; the last step to sigma = 0
/// returns m_i without noise.</para>
/// <para>The first step is first order, and so is the last when it lands on sigma = 0 or with
/// <see cref="SchedulerOptions.LowerOrderFinal"/> and fewer than 15 steps; with <see cref="SchedulerOptions.SolverOrder"/> 1
/// every step is.</para>
/// <para>Multistep state: the previous x0 prediction lives in the <see cref="ISchedulerLoop"/> returned by
/// <see cref="BeginLoop"/>, never in the scheduler, so the scheduler is immutable between <see cref="SetTimesteps"/> calls and
/// can serve concurrent loops. <see cref="Step(Tensor, int, Tensor, INoiseSource)"/> alone cannot run a multistep solver and throws.</para>
/// </remarks>
public sealed class DpmSolverMultistepScheduler : INoiseScheduler
{
    private int[] _timesteps = [];
    private double[] _sigmas = [];

    /// <summary>Creates the scheduler from <paramref name="options"/> with <see cref="SchedulerOptions.ResolvedInferenceSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid, naming it.</exception>
    public DpmSolverMultistepScheduler(SchedulerOptions options)
    {
        Schedule = new NoiseSchedule(SchedulerFactory.Validated(options));
        if (options.Algorithm is not (SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverMultistepSde))
        {
            throw new ArgumentException($"options.Algorithm is {options.Algorithm}; this scheduler runs DpmSolverMultistep or DpmSolverMultistepSde (use SchedulerFactory.Create for the others).", nameof(options));
        }

        Options = options;
        SetTimesteps(options.InferenceSteps ?? SchedulerOptions.DefaultInferenceSteps(SamplerKind.DpmSolverMultistep, options.TrainTimesteps));
    }

    /// <summary>The variance schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>Whether this is the SDE variant (<see cref="SamplerKind.DpmSolverMultistepSde"/>), which adds fresh noise at every step but the last.</summary>
    public bool IsStochastic => Options.Algorithm == SamplerKind.DpmSolverMultistepSde;

    /// <summary>The options this scheduler follows.</summary>
    public SchedulerOptions Options { get; }

    /// <inheritdoc />
    public int TrainTimesteps => Schedule.TrainTimesteps;

    /// <inheritdoc />
    public int FirstTrainTimestep => Schedule.FirstTimestep;

    /// <inheritdoc />
    public int InferenceSteps => _timesteps.Length;

    /// <inheritdoc />
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <summary>sigma at each visited timestep followed by the final sigma (length <see cref="InferenceSteps"/> + 1).</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <inheritdoc />
    /// <remarks>Call it only while no loop from <see cref="BeginLoop"/> is running.</remarks>
    public void SetTimesteps(int inferenceSteps)
    {
        var timesteps = TimestepPlans.Plan(Schedule, Options, inferenceSteps, TimestepPlans.Family.DpmSolver);
        var sigmas = new double[timesteps.Length + 1];
        for (int i = 0; i < timesteps.Length; i++)
        {
            double ab = Schedule.AlphaBars[timesteps[i]];
            sigmas[i] = Math.Sqrt((1 - ab) / ab);
        }

        double abMin = Schedule.AlphaBars[Schedule.FirstTimestep];
        sigmas[^1] = Options.FinalSigmas == FinalSigmas.Zero ? 0 : Math.Sqrt((1 - abMin) / abMin);

        _timesteps = timesteps;
        _sigmas = sigmas;
    }

    /// <inheritdoc />
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.AddNoise(originalSamples, noise, timesteps);

    /// <inheritdoc />
    public Tensor GetTrainingTarget(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.TrainingTarget(Options.PredictionType, originalSamples, noise, timesteps);

    /// <inheritdoc />
    public Tensor GetMinSnrLossWeights(Tensor timesteps, double gamma) => Schedule.MinSnrLossWeights(Options.PredictionType, timesteps, gamma);

    /// <inheritdoc />
    public ISchedulerLoop BeginLoop() => new Loop(this);

    /// <summary>Not supported: a multistep solver needs the loop's history; use <see cref="BeginLoop"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => Step(modelOutput, timestep, sample, new GeneratorNoiseSource(generator));

    /// <summary>Not supported: a multistep solver needs the loop's history; use <see cref="BeginLoop"/>.</summary>
    /// <exception cref="NotSupportedException">Always.</exception>
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
        => throw new NotSupportedException("DPM-Solver++ is a multistep solver: call BeginLoop() and step the returned ISchedulerLoop, which keeps the previous model output for the loop.");

    /// <summary>One loop: the step index and the previous x0 prediction.</summary>
    private sealed class Loop : ISchedulerLoop
    {
        private readonly DpmSolverMultistepScheduler _owner;
        private readonly int[] _timesteps;
        private readonly double[] _sigmas;
        private Tensor? _previousOriginal;
        private int _index;
        private bool _disposed;

        public Loop(DpmSolverMultistepScheduler owner)
        {
            _owner = owner;
            _timesteps = owner._timesteps;
            _sigmas = owner._sigmas;
        }

        public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
            => Step(modelOutput, timestep, sample, new GeneratorNoiseSource(generator));

        public void KeepRows(IReadOnlyList<int> rows)
        {
            ArgumentNullException.ThrowIfNull(rows);
            if (_previousOriginal is null)
            {
                return;
            }

            using var index = tensor(rows.Select(r => (long)r).ToArray(), device: _previousOriginal.device);
            var kept = _previousOriginal.index_select(0, index).DetachFromDisposeScope();
            _previousOriginal.Dispose();
            _previousOriginal = kept;
        }

        public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            NoiseSchedule.ValidateStep(modelOutput, sample);
            if (_index >= _timesteps.Length || timestep != _timesteps[_index])
            {
                throw new ArgumentOutOfRangeException(nameof(timestep), timestep, _index >= _timesteps.Length
                    ? $"The loop already took all {_timesteps.Length} steps; begin a new loop."
                    : $"Steps must follow Timesteps in order: step {_index + 1} expects timestep {_timesteps[_index]}.");
            }

            var options = _owner.Options;
            int i = _index;
            double sigmaS0 = _sigmas[i];
            double sigmaT = _sigmas[i + 1];
            int n = _timesteps.Length;
            bool lowerOrderFinal = i == n - 1 && (sigmaT == 0 || (options.LowerOrderFinal && n < 15));
            bool secondOrder = options.SolverOrder == 2 && i > 0 && !lowerOrderFinal && _previousOriginal is not null;

            using var scope = NewDisposeScope();

            // 1. Convert the model output to an x0 prediction m_i (DPM-Solver++ works in data space).
            double ab = _owner.Schedule.AlphaBars[timestep];
            var (predicted, _) = NoiseSchedule.Predict(options.PredictionType, modelOutput, sample, ab);
            var m0 = NoiseSchedule.Clip(predicted, options.ClipSample, options.ClipSampleRange);

            Tensor prev;
            if (sigmaT == 0)
            {
                // 2a. The last step lands on sigma = 0: x_0 = m_i exactly (the first-order update's limit).
                prev = m0.clone();
            }
            else
            {
                var (alphaT, sT, lambdaT) = AlphaSigmaLambda(sigmaT);
                var (_, sS0, lambdaS0) = AlphaSigmaLambda(sigmaS0);
                double h = lambdaT - lambdaS0;
                bool sde = _owner.IsStochastic;

                // 2b. First order. ODE (DDIM in data space): x_t = s_t/s_s0·x - alpha_t·(exp(-h) - 1)·m0.
                //     SDE: x_t = s_t/s_s0·exp(-h)·x + alpha_t·(1 - exp(-2h))·m0 + s_t·sqrt(1 - exp(-2h))·z.
                double decay = sde ? (sT / sS0) * Math.Exp(-h) : sT / sS0;
                double phi = sde ? alphaT * (1 - Math.Exp(-2 * h)) : -alphaT * (Math.Exp(-h) - 1);
                prev = (decay * sample) + (phi * m0);
                if (secondOrder)
                {
                    // 2c. Midpoint 2M: D1 = (m0 - m1)/r0 with r0 = h_{i-1}/h; x_t += 0.5·phi·D1.
                    var (_, _, lambdaS1) = AlphaSigmaLambda(_sigmas[i - 1]);
                    double r0 = (lambdaS0 - lambdaS1) / h;
                    var d1 = (1 / r0) * (m0 - _previousOriginal!);
                    prev = prev + (0.5 * phi * d1);
                }

                if (sde)
                {
                    prev = prev + (sT * Math.Sqrt(1 - Math.Exp(-2 * h)) * NoiseSchedule.NoiseLike(sample, noise));
                }
            }

            // 3. Remember m_i for the next step (outside any dispose scope), then hand the results to the caller.
            var keep = m0.detach().clone().DetachFromDisposeScope();
            _previousOriginal?.Dispose();
            _previousOriginal = keep;
            _index++;
            return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), m0.MoveToOuterDisposeScope());
        }

        public void Dispose()
        {
            _previousOriginal?.Dispose();
            _previousOriginal = null;
            _disposed = true;
        }

        private static (double Alpha, double Sigma, double Lambda) AlphaSigmaLambda(double sigma)
        {
            double alpha = 1 / Math.Sqrt((sigma * sigma) + 1);
            double s = sigma * alpha;
            return (alpha, s, Math.Log(alpha) - Math.Log(s));
        }
    }
}
