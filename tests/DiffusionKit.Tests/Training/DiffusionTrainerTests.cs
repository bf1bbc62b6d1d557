using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

public sealed class DiffusionTrainerTests
{
    private static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    private static TinyDenoiser Model(int seed) => TinyDenoiser.Seeded(seed);

    [Fact]
    public void Loss_falls_and_progress_reports_each_step_with_linear_decay()
    {
        var model = Model(1);
        var reports = new List<TrainingProgress>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 120, BatchSize = 32, LearningRate = 3e-3, Seed = 1 });

        var result = trainer.Train(model, new DdpmScheduler(), new SquaresDataset(64), Encoder, new ActionProgress<TrainingProgress>(reports.Add));

        result.Steps.Should().Be(120);
        reports.Select(r => r.Step).Should().Equal(Enumerable.Range(1, 120));
        reports[0].LearningRate.Should().BeApproximately(3e-3, 1e-12);
        reports[60].LearningRate.Should().BeApproximately(3e-3 * (1 - (60 / 120.0)), 1e-12);
        double early = reports.Take(10).Average(r => r.Loss);
        double late = reports.Skip(100).Average(r => r.Loss);
        late.Should().BeLessThan(0.6 * early, "a denoiser learns the easy part of eps within a hundred steps");
        model.training.Should().BeFalse("the model is left in eval mode");
    }

    [Fact]
    public void Cosine_schedule_with_warmup_reports_the_scheduled_rate()
    {
        var reports = new List<TrainingProgress>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions
        {
            Steps = 40, BatchSize = 8, LearningRate = 2e-3, LearningRateSchedule = LearningRateSchedule.Cosine, WarmupSteps = 10, Seed = 1,
        });

        trainer.Train(Model(2), new DdpmScheduler(), new SquaresDataset(16), Encoder, new ActionProgress<TrainingProgress>(reports.Add));

        // Report k is step k - 1 (0-based): warm-up factor min(1, (step + 1)/10) times the cosine at step/40.
        static double Expected(int step) => 2e-3 * Math.Min(1, (step + 1) / 10.0) * 0.5 * (1 + Math.Cos(Math.PI * step / 40.0));
        reports[0].LearningRate.Should().BeApproximately(2e-4 * 1.0, 1e-12, "the first warm-up step uses a tenth of the rate");
        reports[4].LearningRate.Should().BeApproximately(Expected(4), 1e-12);
        reports[9].LearningRate.Should().BeApproximately(Expected(9), 1e-12);
        reports[20].LearningRate.Should().BeApproximately(1e-3, 1e-12, "half way through, the cosine is at half the rate");
        reports[39].LearningRate.Should().BeApproximately(Expected(39), 1e-12);
        reports[39].LearningRate.Should().BeLessThan(1e-5);
    }

    [Fact]
    public void Same_seed_gives_identical_weights()
    {
        var a = Model(5);
        var b = Model(5);
        var options = new DiffusionTrainerOptions { Steps = 15, BatchSize = 16, Seed = 9, EmaDecay = 0.9 };
        new DiffusionTrainer(options).Train(a, new DdpmScheduler(), new SquaresDataset(40), Encoder);
        new DiffusionTrainer(options).Train(b, new DdpmScheduler(), new SquaresDataset(40), Encoder);
        var c = Model(5);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 15, BatchSize = 16, Seed = 10, EmaDecay = 0.9 }).Train(c, new DdpmScheduler(), new SquaresDataset(40), Encoder);

        var pa = a.parameters().ToList();
        var pb = b.parameters().ToList();
        var pc = c.parameters().ToList();
        for (int i = 0; i < pa.Count; i++)
        {
            pa[i].eq(pb[i]).all().item<bool>().Should().BeTrue($"parameter {i} must match bit for bit");
        }

        pa.Zip(pc).Any(p => !p.First.eq(p.Second).all().item<bool>()).Should().BeTrue("another seed trains differently");
    }

    [Fact]
    public void Epochs_budget_counts_full_batches()
    {
        var result = new DiffusionTrainer(new DiffusionTrainerOptions { Epochs = 2, BatchSize = 16 }).Train(Model(2), new DdpmScheduler(), new SquaresDataset(40), Encoder);
        result.Steps.Should().Be(4, "40 images make 2 full batches of 16 per epoch");
    }

    [Fact]
    public void Time_budget_stops_training()
    {
        var result = new DiffusionTrainer(new DiffusionTrainerOptions { MaxDuration = TimeSpan.FromMilliseconds(300), BatchSize = 8 }).Train(Model(2), new DdpmScheduler(), new SquaresDataset(16), Encoder);
        result.StoppedByTimeBudget.Should().BeTrue();
        result.Steps.Should().BeGreaterThan(0);
    }

    [Fact]
    public void Cancellation_stops_training_and_keeps_a_usable_model()
    {
        using var cts = new CancellationTokenSource();
        var model = Model(3);
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
            if (p.Step == 5)
            {
                cts.Cancel();
            }
        });

        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1000, BatchSize = 8 }).Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder, progress, cts.Token);

        act.Should().Throw<OperationCanceledException>();
        model.training.Should().BeFalse();
        using var scope = NewDisposeScope();
        model.PredictNoise(zeros(1, 3, 8, 8), zeros(1), null).isnan().any().item<bool>().Should().BeFalse();
    }

    [Fact]
    public void An_already_cancelled_token_trains_nothing()
    {
        var model = Model(3);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 10, BatchSize = 8 }).Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder, cancellationToken: new CancellationToken(true));

        act.Should().Throw<OperationCanceledException>();
        model.parameters().Zip(before).Should().OnlyContain(p => p.First.eq(p.Second).all().item<bool>());
    }

    [Fact]
    public void Live_tensors_do_not_grow_across_steps()
    {
        var counts = new List<long>();
        var progress = new ActionProgress<TrainingProgress>(_ => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 40, BatchSize = 8, EmaDecay = 0.99 }).Train(Model(4), new DdpmScheduler(), new SquaresDataset(16), Encoder, progress);

        counts.Skip(5).Max().Should().BeLessThanOrEqualTo(counts[4], "each step must dispose everything it created");
    }

    [Fact]
    public void Mismatched_data_and_encoder_are_rejected()
    {
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1 });
        ((Action)(() => trainer.Train(Model(1), new DdpmScheduler(), new SquaresDataset(8, imageSize: 16), Encoder))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "dataset" && e.Message.Contains("16x16"));
        ((Action)(() => trainer.Train(Model(1), new DdpmScheduler(), new SquaresDataset(8), new WordEncoder("red", "blue")))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("encoder");
    }

    [Theory]
    [InlineData("BatchSize")]
    [InlineData("LearningRate")]
    [InlineData("LearningRateSchedule")]
    [InlineData("Steps")]
    [InlineData("ContextDropout")]
    [InlineData("EmaDecay")]
    [InlineData("WarmupSteps")]
    [InlineData("SnrGamma")]
    [InlineData("Budget")]
    [InlineData("Both")]
    public void Bad_options_name_the_option(string which)
    {
        var options = which switch
        {
            "BatchSize" => new DiffusionTrainerOptions { Steps = 1, BatchSize = 0 },
            "LearningRate" => new DiffusionTrainerOptions { Steps = 1, LearningRate = double.NaN },
            "LearningRateSchedule" => new DiffusionTrainerOptions { Steps = 1, LearningRateSchedule = (LearningRateSchedule)42 },
            "Steps" => new DiffusionTrainerOptions { Steps = 0 },
            "ContextDropout" => new DiffusionTrainerOptions { Steps = 1, ContextDropout = 1.5 },
            "EmaDecay" => new DiffusionTrainerOptions { Steps = 1, EmaDecay = 1 },
            "WarmupSteps" => new DiffusionTrainerOptions { Steps = 1, WarmupSteps = -1 },
            "SnrGamma" => new DiffusionTrainerOptions { Steps = 1, SnrGamma = 0 },
            "Budget" => new DiffusionTrainerOptions(),
            _ => new DiffusionTrainerOptions { Steps = 1, Epochs = 1 },
        };

        var act = () => new DiffusionTrainer(options);

        string expected = which switch { "Budget" => "Steps", "Both" => "Epochs", _ => which };
        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be(expected);
    }
}
