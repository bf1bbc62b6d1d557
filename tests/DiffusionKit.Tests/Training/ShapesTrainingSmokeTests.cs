using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

/// <summary>The real engine end to end at a small width: the context U-Net learns the shapes data and samples images.</summary>
public sealed class ShapesTrainingSmokeTests
{
    [Fact]
    public void Context_unet_loss_falls_clearly_on_shapes_within_a_few_hundred_steps_and_samples_valid_images()
    {
        var data = new ShapesDataset(new ShapesDatasetOptions { Count = 2000, Seed = 3 });
        var encoder = ShapesCatalog.CreateEncoder();
        using var model = new ContextUnet(new ContextUnetOptions { Features = 16, ContextSize = encoder.ContextSize }, seed: 3);
        var losses = new List<double>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 200, BatchSize = 32, LearningRate = 2e-3, Seed = 3 });

        var result = trainer.Train(model, new DdpmScheduler(), data, encoder, new ActionProgress<TrainingProgress>(p => losses.Add(p.Loss)));

        result.Steps.Should().Be(200);
        double first = losses.Take(10).Average();
        double last = losses.Skip(180).Average();
        first.Should().BeGreaterThan(0.5, "an untrained network predicts the noise badly");
        last.Should().BeLessThan(0.5 * first, "the loss must fall clearly within 200 steps");

        using var scope = NewDisposeScope();
        var context = encoder.Encode(new[] { "a large red circle", "a small blue square" });
        var images = new DiffusionSampler().Sample(model, new DdimScheduler(inferenceSteps: 10), context, new SamplingOptions { Seed = 1, GuidanceScale = 1 });
        images.shape.Should().Equal(2, 3, 16, 16);
        images.isnan().any().item<bool>().Should().BeFalse();
        images.min().item<float>().Should().BeGreaterThanOrEqualTo(0);
        images.max().item<float>().Should().BeLessThanOrEqualTo(1);
    }
}
