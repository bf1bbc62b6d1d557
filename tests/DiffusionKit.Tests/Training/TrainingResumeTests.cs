using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Text;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TrainingPrecision = DiffusionKit.Training.Precision;

namespace DiffusionKit.Tests.Training;

/// <summary>N steps, then a resumed run, give the weights of one uninterrupted run, bit for bit on the CPU.</summary>
public sealed class TrainingResumeTests
{
    private static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    /// <summary>Every periodic checkpoint's training state, saved into dir/step-N.</summary>
    private static TrainingCallbacks SaveStates(TempDirectory dir, List<int>? steps = null) => new()
    {
        Checkpoint = s =>
        {
            string folder = dir.File($"step-{s.Step}");
            Directory.CreateDirectory(folder);
            s.SaveTrainingState(folder);
            steps?.Add(s.Step);
        },
    };

    private static DiffusionTrainerOptions Options(TrainingPrecision precision, int steps, string? resume = null) => new()
    {
        Steps = steps,
        BatchSize = 16,
        LearningRate = 3e-3,
        LearningRateSchedule = LearningRateSchedule.Cosine,
        WarmupSteps = 3,
        EmaDecay = 0.9,
        SnrGamma = 5,
        ContextDropout = 0.2,
        Seed = 7,
        Precision = precision,
        SaveEvery = 4,
        ResumeFrom = resume,
    };

    private static List<Tensor> Weights(nn.Module module) => module.state_dict().Values.Select(t => t.detach().clone()).ToList();

    private static void ShouldBeBitIdentical(List<Tensor> expected, List<Tensor> actual)
    {
        actual.Should().HaveCount(expected.Count);
        for (int i = 0; i < expected.Count; i++)
        {
            actual[i].dtype.Should().Be(expected[i].dtype);
            actual[i].eq(expected[i]).all().item<bool>().Should().BeTrue($"tensor {i} must match bit for bit");
        }
    }

    [Theory]
    [InlineData(TrainingPrecision.Float32, false)]
    [InlineData(TrainingPrecision.BFloat16, false)]
    [InlineData(TrainingPrecision.Float32, true)]
    public void A_run_resumed_from_a_periodic_checkpoint_ends_with_the_uninterrupted_runs_weights(TrainingPrecision precision, bool learnedEncoder)
    {
        using var dir = new TempDirectory();
        // 40 images in batches of 16: 2 steps an epoch, so the checkpoints at steps 4 and 8 sit at epoch boundaries and
        // the resumed run also crosses them; step 6 is resumed mid-way through nothing special. 11 steps in all.
        using var encoderA = learnedEncoder ? new LearnedTextEncoder(["red", "blue"], 4, contextSize: 4, generator: new Generator(3)) : null;
        var full = TinyDenoiser.Seeded(1);
        var saved = new List<int>();
        var resultA = new DiffusionTrainer(Options(precision, 11)).Train(full, new DdpmScheduler(), new SquaresDataset(40), (ITextEncoder?)encoderA ?? Encoder, SaveStates(dir, saved));
        saved.Should().Equal(4, 8, 11);
        resultA.Steps.Should().Be(11);

        // The resumed model starts from other weights: everything it needs comes from the saved state.
        var resumed = TinyDenoiser.Seeded(99);
        using var encoderB = learnedEncoder ? new LearnedTextEncoder(["red", "blue"], 4, contextSize: 4, generator: new Generator(42)) : null;
        var progress = new List<TrainingProgress>();
        var resultB = new DiffusionTrainer(Options(precision, 11, resume: dir.File("step-4"))).Train(
            resumed, new DdpmScheduler(), new SquaresDataset(40), (ITextEncoder?)encoderB ?? Encoder, TrainingCallbacks.None, new ActionProgress<TrainingProgress>(progress.Add));

        resultB.Steps.Should().Be(11, "the step count includes the 4 steps before the resume");
        progress.Select(p => p.Step).Should().Equal(5, 6, 7, 8, 9, 10, 11);
        resultB.FinalLoss.Should().Be(resultA.FinalLoss);
        ShouldBeBitIdentical(Weights(full), Weights(resumed));
        if (learnedEncoder)
        {
            ShouldBeBitIdentical(Weights(encoderA!), Weights(encoderB!));
        }
    }

    [Fact]
    public void N_steps_then_M_resumed_steps_equal_N_plus_M_steps_with_a_constant_rate()
    {
        using var dir = new TempDirectory();
        DiffusionTrainerOptions Constant(int steps, string? resume) => new()
        {
            Steps = steps, BatchSize = 8, LearningRate = 2e-3, LearningRateSchedule = LearningRateSchedule.Constant, EmaDecay = 0.95, Seed = 3, ResumeFrom = resume,
        };

        var first = TinyDenoiser.Seeded(2);
        new DiffusionTrainer(Constant(6, null)).Train(first, new DdpmScheduler(), new SquaresDataset(20), Encoder, SaveStates(dir));
        var continued = TinyDenoiser.Seeded(2);
        new DiffusionTrainer(Constant(10, dir.File("step-6"))).Train(continued, new DdpmScheduler(), new SquaresDataset(20), Encoder);

        var oneRun = TinyDenoiser.Seeded(2);
        new DiffusionTrainer(Constant(10, null)).Train(oneRun, new DdpmScheduler(), new SquaresDataset(20), Encoder);

        ShouldBeBitIdentical(Weights(oneRun), Weights(continued));
    }

    [Fact]
    public void An_auto_precision_resume_keeps_the_saved_runs_precision_without_measuring()
    {
        using var dir = new TempDirectory();
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 6)).Train(TinyDenoiser.Seeded(6), new DdpmScheduler(), new SquaresDataset(40), Encoder, SaveStates(dir));
        var measured = new List<PrecisionMeasurement>();
        var auto = new DiffusionTrainerOptions
        {
            Steps = 6, BatchSize = 16, LearningRate = 3e-3, LearningRateSchedule = LearningRateSchedule.Cosine, WarmupSteps = 3, EmaDecay = 0.9, SnrGamma = 5,
            ContextDropout = 0.2, Seed = 7, Precision = TrainingPrecision.Auto, SaveEvery = 4, ResumeFrom = dir.File("step-4"), OnPrecisionMeasured = measured.Add,
        };
        var resumed = TinyDenoiser.Seeded(0);
        var result = new DiffusionTrainer(auto).Train(resumed, new DdpmScheduler(), new SquaresDataset(40), Encoder);

        result.Precision.Should().Be(TrainingPrecision.Float32);
        result.PrecisionMeasurement.Should().BeNull();
        measured.Should().BeEmpty("the saved run already chose");
        var full = TinyDenoiser.Seeded(6);
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 6)).Train(full, new DdpmScheduler(), new SquaresDataset(40), Encoder);
        ShouldBeBitIdentical(Weights(full), Weights(resumed));
    }

    [Fact]
    public void Cancellation_hands_out_a_checkpoint_of_the_last_finished_step_that_resumes_exactly()
    {
        using var dir = new TempDirectory();
        using var cts = new CancellationTokenSource();
        var snapshots = new List<(TrainingSnapshotReason Reason, int Step, double Loss)>();
        var callbacks = new TrainingCallbacks
        {
            Checkpoint = s =>
            {
                snapshots.Add((s.Reason, s.Step, s.AverageLoss));
                string folder = dir.File($"step-{s.Step}");
                Directory.CreateDirectory(folder);
                s.SaveTrainingState(folder);
            },
        };
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
            if (p.Step == 5)
            {
                cts.Cancel();
            }
        });

        var act = () => new DiffusionTrainer(Options(TrainingPrecision.Float32, 9)).Train(TinyDenoiser.Seeded(4), new DdpmScheduler(), new SquaresDataset(40), Encoder, callbacks, progress, cts.Token);

        act.Should().Throw<OperationCanceledException>();
        snapshots.Select(s => (s.Reason, s.Step)).Should().Equal((TrainingSnapshotReason.Periodic, 4), (TrainingSnapshotReason.Interrupted, 5));
        double.IsFinite(snapshots[^1].Loss).Should().BeTrue("the interrupted checkpoint reports the real loss");

        var resumed = TinyDenoiser.Seeded(5);
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 9, dir.File("step-5"))).Train(resumed, new DdpmScheduler(), new SquaresDataset(40), Encoder);
        var full = TinyDenoiser.Seeded(4);
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 9)).Train(full, new DdpmScheduler(), new SquaresDataset(40), Encoder);
        ShouldBeBitIdentical(Weights(full), Weights(resumed));
    }

    [Fact]
    public void Resuming_with_other_settings_or_without_a_state_fails_naming_the_setting()
    {
        using var dir = new TempDirectory();
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 4)).Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder, SaveStates(dir));

        var otherBatch = () => new DiffusionTrainer(Options(TrainingPrecision.Float32, 8, dir.File("step-4")).WithBatch(8))
            .Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder);
        otherBatch.Should().Throw<ArgumentException>().WithMessage("*batch size 16*8*--batch*");

        var otherData = () => new DiffusionTrainer(Options(TrainingPrecision.Float32, 8, dir.File("step-4"))).Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(48), Encoder);
        otherData.Should().Throw<ArgumentException>().WithMessage("*data set of 40*48*");

        var noState = () => new DiffusionTrainer(Options(TrainingPrecision.Float32, 8, dir.File("nothing-here"))).Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder);
        noState.Should().Throw<FileNotFoundException>().WithMessage("*holds no training state*");
    }

    [Fact]
    public void The_state_names_its_indexed_tensors_and_a_state_in_another_order_is_refused_naming_the_field()
    {
        using var dir = new TempDirectory();
        new DiffusionTrainer(Options(TrainingPrecision.Float32, 4)).Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder, SaveStates(dir));
        string infoPath = Path.Combine(dir.File("step-4"), "training_state.json");
        var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(infoPath))!.AsObject();
        var model = TinyDenoiser.Seeded(1);
        var names = model.named_parameters().Select(p => p.name).ToArray();
        json["adam_parameters"]!.AsArray().Select(n => (string)n!).Should().Equal(names, "adam/i is the model's parameter i, by name (another trainer maps the moments by these)");
        json["ema_tensors"]!.AsArray().Select(n => (string)n!).Should().Equal(model.state_dict().Keys, "ema/i is the state_dict's tensor i");

        // Another trainer that wrote the same tensors in another order: refused, never silently mis-paired.
        var swapped = (string[])names.Clone();
        (swapped[0], swapped[1]) = (swapped[1], swapped[0]);
        json["adam_parameters"] = new System.Text.Json.Nodes.JsonArray(swapped.Select(n => (System.Text.Json.Nodes.JsonNode?)n).ToArray());
        File.WriteAllText(infoPath, json.ToJsonString());
        var resume = () => new DiffusionTrainer(Options(TrainingPrecision.Float32, 8, dir.File("step-4"))).Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder);
        resume.Should().Throw<InvalidDataException>().WithMessage($"*'adam_parameters' names '{swapped[0]}' at index 0*'{names[0]}'*");
    }
}

internal static class TrainerOptionsCopies
{
    /// <summary>The same options with another batch size (the options type is a sealed class with init-only properties).</summary>
    public static DiffusionTrainerOptions WithBatch(this DiffusionTrainerOptions o, int batch) => new()
    {
        Steps = o.Steps, BatchSize = batch, LearningRate = o.LearningRate, LearningRateSchedule = o.LearningRateSchedule, WarmupSteps = o.WarmupSteps,
        EmaDecay = o.EmaDecay, SnrGamma = o.SnrGamma, ContextDropout = o.ContextDropout, Seed = o.Seed, Precision = o.Precision, SaveEvery = o.SaveEvery,
        ResumeFrom = o.ResumeFrom,
    };
}
