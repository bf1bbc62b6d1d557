using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

public sealed class PredictionTypeTrainingTests
{
    private static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    [Fact]
    public void The_trainer_regresses_the_schedulers_prediction_target()
    {
        // A model that predicts 0 has first-step loss mean(target^2). The squares data are exactly ±1 in every pixel, so a
        // sample-predicting scheduler gives exactly 1; the noise target gives mean(eps^2), which is not exactly 1.
        double First(PredictionType prediction)
        {
            var reports = new List<TrainingProgress>();
            var scheduler = SchedulerFactory.Create(new SchedulerOptions { PredictionType = prediction });
            new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 16, Seed = 3 })
                .Train(new ZeroDenoiser(), scheduler, new SquaresDataset(16), Encoder, new ActionProgress<TrainingProgress>(reports.Add));
            return reports[0].Loss;
        }

        First(PredictionType.Sample).Should().BeApproximately(1.0, 1e-6);
        Math.Abs(First(PredictionType.Epsilon) - 1.0).Should().BeGreaterThan(1e-4);
        First(PredictionType.VPrediction).Should().NotBe(First(PredictionType.Epsilon));
    }

    [Fact]
    public void Min_snr_weighting_multiplies_each_samples_loss_by_its_weight()
    {
        double First(PredictionType prediction, double? gamma)
        {
            var reports = new List<TrainingProgress>();
            var scheduler = SchedulerFactory.Create(new SchedulerOptions { PredictionType = prediction });
            new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 16, Seed = 3, SnrGamma = gamma })
                .Train(new ZeroDenoiser(), scheduler, new SquaresDataset(16), Encoder, new ActionProgress<TrainingProgress>(reports.Add));
            return reports[0].Loss;
        }

        // Sample prediction with a zero model: every sample's MSE is exactly 1, and a cap below the smallest SNR of the
        // course schedule (ab_500 / (1 - ab_500) ≈ 0.0067) makes every weight min(SNR, γ) = γ.
        First(PredictionType.Sample, 1e-3).Should().BeApproximately(1e-3, 1e-9);

        // Epsilon prediction with a cap above every SNR: min(SNR, γ)/SNR = 1, the plain MSE.
        First(PredictionType.Epsilon, 1e9).Should().BeApproximately(First(PredictionType.Epsilon, null), 1e-6);

        // The paper's γ = 5 down-weights the low-noise timesteps of epsilon training: a different (smaller) loss.
        First(PredictionType.Epsilon, 5).Should().BeLessThan(First(PredictionType.Epsilon, null) - 1e-3);
    }

    [Fact]
    public void Training_in_diffusers_convention_draws_timesteps_0_to_T_minus_1()
    {
        // 40 steps × 16 draws over 50 timesteps: drawing t = T (outside 0..T-1) would make AddNoise throw.
        var scheduler = SchedulerFactory.Create(new SchedulerOptions { Convention = ScheduleConvention.Diffusers, TrainTimesteps = 50 });
        scheduler.FirstTrainTimestep.Should().Be(0);
        ((INoiseScheduler)new DdpmScheduler()).FirstTrainTimestep.Should().Be(1);
        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 40, BatchSize = 16, Seed = 2 })
            .Train(new ZeroDenoiser(), scheduler, new SquaresDataset(16), Encoder);
        act.Should().NotThrow();
    }

    /// <summary>Predicts <c>w·sample</c> with a single weight w = 0.</summary>
    private sealed class ZeroDenoiser : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        private readonly Parameter weight;

        public ZeroDenoiser()
            : base(nameof(ZeroDenoiser))
        {
            weight = nn.Parameter(zeros(1));
            RegisterComponents();
        }

        public int Channels => 3;

        public int ImageSize => 8;

        public int ContextSize => 4;

        public Device Device => CPU;

        public override Tensor forward(Tensor sample, Tensor time, Tensor? context) => sample * weight;

        public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) => forward(sample, time, context);
    }
}
