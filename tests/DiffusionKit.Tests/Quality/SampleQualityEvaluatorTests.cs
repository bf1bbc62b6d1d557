using DiffusionKit.Data;
using DiffusionKit.Quality;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Quality;

public sealed class SampleQualityEvaluatorTests
{
    private static readonly CaptionClassifierOptions Quick = new() { Steps = 60, BatchSize = 16, Width = 8, FeatureSize = 8 };

    private static SampleQualityEvaluator Create(TinyConvDenoiser model, IImageCaptionDataset training, IImageCaptionDataset validation) =>
        new(model, new SchedulerOptions(), new WordEncoder("red", "blue"), training, validation, imagesPerCaption: 3, sampler: SamplerKind.Ddim, steps: 4, classifier: Quick);

    [Fact]
    public void An_untrained_model_is_judged_far_from_the_real_images_and_the_same_seed_measures_the_same()
    {
        var split = DatasetSplit.Create(new SquaresDataset(48), 0.25, seed: 0);
        using var model = new TinyConvDenoiser(3, 8, 2, 8, seed: 1);
        using var evaluator = Create(model, split.Training, split.Validation);

        evaluator.Captions.Should().Equal("blue", "red");
        evaluator.ImagesPerMeasurement.Should().Be(6);
        evaluator.ValidationAccuracy.Should().Be(1, "a red square and a blue square are told apart");
        var encoder = new WordEncoder("red", "blue");
        var first = evaluator.Measure(model, encoder, guidance: 1);
        var again = evaluator.Measure(model, encoder, guidance: 1);
        again.Should().Be(first, "fixed seeds");
        first.Images.Should().Be(6);
        first.Accuracy.Should().BeInRange(0, 1);
        first.FeatureDistance.Should().BeGreaterThan(2 * evaluator.RealDistance, "noise from an untrained network is far from squares; real squares are not");
    }

    [Fact]
    public void A_model_that_draws_the_captions_own_images_is_judged_right_and_near_the_real_images()
    {
        var data = new SquaresDataset(48);
        var split = DatasetSplit.Create(data, 0.25, seed: 0);
        using var model = new TinyConvDenoiser(3, 8, 2, 8, seed: 1);
        using var evaluator = new SampleQualityEvaluator(model, new SchedulerOptions { PredictionType = PredictionType.Sample }, new WordEncoder("red", "blue"), split.Training, split.Validation, imagesPerCaption: 3, sampler: SamplerKind.Ddim, steps: 4, classifier: Quick);

        // WordEncoder("red", "blue"): context row 0 is "red" (image 0, a red square), row 1 "blue" (image 1).
        using var scope = NewDisposeScope();
        var bytes = new byte[2 * 8 * 8 * 3];
        data.CopyImage(0, bytes.AsSpan(0, 192));
        data.CopyImage(1, bytes.AsSpan(192, 192));
        var images = tensor(bytes, new long[] { 2, 8, 8, 3 }, ScalarType.Byte).permute(0, 3, 1, 2).to(ScalarType.Float32).div(127.5).sub(1);
        var oracle = evaluator.Measure(new OracleDenoiser(images), new WordEncoder("red", "blue"), guidance: 0);
        var untrained = evaluator.Measure(model, new WordEncoder("red", "blue"), guidance: 0);

        oracle.Accuracy.Should().Be(1, "each caption's own image");
        oracle.Confidence.Should().BeGreaterThan(0.5).And.BeLessThanOrEqualTo(1);
        oracle.FeatureDistance.Should().BeLessThan(untrained.FeatureDistance / 10, "real images, 8-bit like the validation images, against noise");
    }

    [Fact]
    public void Data_that_does_not_fit_is_refused_naming_the_argument()
    {
        var data = new SquaresDataset(40);
        using var model = new TinyConvDenoiser(3, 8, 2, 8, seed: 1);
        using var wrongSize = new TinyConvDenoiser(3, 16, 2, 8, seed: 1);
        FluentActions.Invoking(() => Create(wrongSize, data, data)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "training" && e.Message.Contains("16x16"));
        FluentActions.Invoking(() => Create(model, data, new SquaresDataset(1))).Should().Throw<ArgumentException>().Where(e => e.ParamName == "validation" && e.Message.Contains("at least 2"));

        using var evaluator = Create(model, data, new SquaresDataset(10));
        FluentActions.Invoking(() => evaluator.Measure(wrongSize, new WordEncoder("red", "blue"), 1)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "model");
        FluentActions.Invoking(() => evaluator.Measure(model, new WordEncoder("red", "blue"), double.NaN)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "guidance");
    }
}
