using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Tests.Cli;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Models;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;
using TrainingPrecision = DiffusionKit.Training.Precision;

namespace DiffusionKit.Tests.Precision;

/// <summary><see cref="TrainingPrecision.Auto"/>: both precisions timed on this machine, the faster used, nothing else changed.</summary>
public sealed class PrecisionProbeTests
{
    // The same tiny network, encoder and snapshot as the bf16 training tests.
    private static WordEncoder Encoder => BFloat16TrainingTests.Encoder;

    private static ContextUnet Tiny(long seed) => BFloat16TrainingTests.Tiny(seed);

    private static Dictionary<string, Tensor> Snapshot(nn.Module model) => BFloat16TrainingTests.Snapshot(model);

    [Fact]
    public void Measuring_training_reports_both_figures_and_restores_every_weight_and_buffer_bit_for_bit()
    {
        using var model = Tiny(3);
        var before = Snapshot(model);

        var measurement = PrecisionProbe.MeasureTraining(model, new DdpmScheduler(), batchSize: 8);

        measurement.Float32ImagesPerSecond.Should().BePositive();
        measurement.BFloat16ImagesPerSecond.Should().BePositive();
        measurement.Chosen.Should().Be(
            measurement.BFloat16ImagesPerSecond > PrecisionProbe.BFloat16Margin * measurement.Float32ImagesPerSecond ? TrainingPrecision.BFloat16 : TrainingPrecision.Float32,
            "bf16 is chosen only when it is faster by more than the margin; a near tie keeps float32");
        measurement.ToString().Should().Contain("fp32").And.Contain("bf16").And.Contain("images/s");
        foreach (var (name, tensor) in model.state_dict())
        {
            tensor.dtype.Should().Be(before[name].dtype, $"{name} must come back in float32");
            TensorComparison.Identical(tensor, before[name]).Should().BeTrue($"{name} must be restored exactly after the probe's training steps");
        }
    }

    [Fact]
    public void Auto_training_gives_exactly_the_weights_of_training_in_the_precision_it_chose()
    {
        using var auto = Tiny(5);
        using var explicitModel = Tiny(5);
        var data = new SquaresDataset(48);
        PrecisionMeasurement? reported = null;
        int reports = 0;
        var autoResult = new DiffusionTrainer(new DiffusionTrainerOptions
        {
            Steps = 6,
            BatchSize = 8,
            Seed = 2,
            Precision = TrainingPrecision.Auto,
            OnPrecisionMeasured = m => { reported = m; reports++; },
        }).Train(auto, new DdpmScheduler(), data, Encoder);

        reports.Should().Be(1, "the choice is logged once, before the first step");
        autoResult.PrecisionMeasurement.Should().BeSameAs(reported);
        autoResult.Precision.Should().Be(reported!.Chosen).And.NotBe(TrainingPrecision.Auto);

        var explicitResult = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 6, BatchSize = 8, Seed = 2, Precision = autoResult.Precision })
            .Train(explicitModel, new DdpmScheduler(), data, Encoder);

        explicitResult.PrecisionMeasurement.Should().BeNull("nothing is measured when the precision is forced");
        explicitResult.Precision.Should().Be(autoResult.Precision);
        var expected = explicitModel.state_dict();
        foreach (var (name, tensor) in auto.state_dict())
        {
            TensorComparison.Identical(tensor, expected[name]).Should().BeTrue($"{name}: measuring first must not change what is trained (weights, RNG, data order)");
        }
    }

    [Fact]
    public void Measuring_sampling_reports_both_figures_and_leaves_the_model_alone()
    {
        using var model = Tiny(7);
        model.eval();
        var before = Snapshot(model);

        var measurement = PrecisionProbe.MeasureSampling(model, batchSize: 4);

        measurement.Float32ImagesPerSecond.Should().BePositive();
        measurement.BFloat16ImagesPerSecond.Should().BePositive();
        measurement.Workload.Should().Contain("batch 4");
        foreach (var (name, tensor) in model.state_dict())
        {
            TensorComparison.Identical(tensor, before[name]).Should().BeTrue($"{name} must not change");
        }
    }

    [Fact]
    public void Bad_batch_sizes_and_unknown_precisions_are_rejected_by_name()
    {
        using var model = Tiny(1);
        ((Action)(() => PrecisionProbe.MeasureTraining(model, new DdpmScheduler(), 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        ((Action)(() => PrecisionProbe.MeasureSampling(model, 0))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("batchSize");
        ((Action)(() => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, Precision = (TrainingPrecision)7 })))
            .Should().Throw<ArgumentOutOfRangeException>().WithMessage("*Precision*Auto*");
    }

    [Theory]
    [InlineData("auto", TrainingPrecision.Auto)]
    [InlineData("fp32", TrainingPrecision.Float32)]
    [InlineData("bf16", TrainingPrecision.BFloat16)]
    public void The_cli_defaults_to_auto_and_still_forces_either_precision(string text, TrainingPrecision expected)
    {
        var train = new TrainCommand();

        train.Training.Precision.Read(train.ParseValid("--out", "x", "--precision", text)).Should().Be(expected);
        train.Training.Precision.Read(train.ParseValid("--out", "x")).Should().Be(TrainingPrecision.Auto);
        PrecisionNames.Format(expected).Should().Be(text, "config.json's training.precision uses the same names");
    }

    [Fact]
    public void The_cli_rejects_other_precision_names()
        => CliInProcess.Run("train", "--out", "x", "--precision", "fp16").Error.Should().Match("error: --precision must be one of auto, fp32, bf16, not 'fp16'*");
}
