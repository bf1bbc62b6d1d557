using DiffusionKit.Cli;
using DiffusionKit.Quality;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Quality;

public sealed class CaptionClassifierTests
{
    private static readonly CaptionClassifierOptions Quick = new() { Steps = 60, BatchSize = 16, Width = 8, FeatureSize = 8 };

    private static Tensor Images(IImageCaptionDataset data, int from, int count)
    {
        int pixels = data.ImageSize * data.ImageSize * data.Channels;
        var bytes = new byte[count * pixels];
        for (int i = 0; i < count; i++)
        {
            data.CopyImage(from + i, bytes.AsSpan(i * pixels, pixels));
        }

        return tensor(bytes, new long[] { count, data.ImageSize, data.ImageSize, data.Channels }, ScalarType.Byte)
            .permute(0, 3, 1, 2).to(ScalarType.Float32).div(127.5).sub(1);
    }

    [Fact]
    public void It_learns_the_captions_of_the_data_and_recognises_unseen_images()
    {
        var data = new SquaresDataset(40);
        using var classifier = CaptionClassifier.Train(data, Quick);

        classifier.Classes.Should().Equal("blue", "red");
        classifier.ClassOf("red").Should().Be(1);
        classifier.ClassOf("green").Should().Be(-1);
        using var scope = NewDisposeScope();
        var unseen = new SquaresDataset(60);
        var predicted = classifier.Classify(Images(unseen, 40, 20)).data<long>().ToArray();
        predicted.Should().Equal(Enumerable.Range(40, 20).Select(i => (long)classifier.ClassOf(unseen.GetCaption(i))));
        classifier.Features(Images(unseen, 40, 20)).shape.Should().Equal(20, 8);
        var probabilities = classifier.Probabilities(Images(unseen, 40, 20));
        probabilities.sum(1).allclose(ones(20), 1e-5, 1e-5).Should().BeTrue("softmax rows");
        probabilities.argmax(1).data<long>().ToArray().Should().Equal(predicted);
    }

    [Fact]
    public void The_same_data_and_seed_give_the_same_features()
    {
        var data = new SquaresDataset(20);
        using var a = CaptionClassifier.Train(data, Quick);
        using var b = CaptionClassifier.Train(data, Quick);
        using var c = CaptionClassifier.Train(data, Quick with { Seed = 1 });
        using var scope = NewDisposeScope();
        var images = Images(data, 0, 6);
        a.Features(images).allclose(b.Features(images), 0, 0).Should().BeTrue();
        a.Features(images).allclose(c.Features(images), 0, 0).Should().BeFalse("another seed draws other weights and batches");
    }

    [Fact]
    public void Captions_that_are_not_classes_are_named_in_the_refusal()
    {
        var squares = new SquaresDataset(40);
        CaptionClassifier.Unsuitable(squares).Should().BeNull();
        CaptionClassifier.Unsuitable(new RelabelledDataset(squares, _ => "a square")).Should().Contain("every image has the same caption");
        CaptionClassifier.Unsuitable(new RelabelledDataset(squares, i => $"photo number {i}"), new CaptionClassifierOptions { MaxClasses = 10 }).Should().Contain("more than 10 distinct captions");
        CaptionClassifier.Unsuitable(new RelabelledDataset(squares, i => i == 0 ? "rare" : "common")).Should().Contain("\"rare\": 1");

        FluentActions.Invoking(() => CaptionClassifier.Train(new RelabelledDataset(squares, _ => "a square"), Quick))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "data" && e.Message.Contains("same caption"));
    }

    [Fact]
    public void Bad_settings_shapes_and_cancellation_are_refused()
    {
        var data = new SquaresDataset(20);
        FluentActions.Invoking(() => CaptionClassifier.Train(data, Quick with { Steps = 0 })).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "Steps");
        FluentActions.Invoking(() => CaptionClassifier.Train(data, Quick with { LearningRate = double.NaN })).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "LearningRate");
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        FluentActions.Invoking(() => CaptionClassifier.Train(data, Quick, cancelled.Token)).Should().Throw<OperationCanceledException>();

        using var classifier = CaptionClassifier.Train(data, Quick);
        using var wrong = zeros(2, 1, 8, 8);
        FluentActions.Invoking(() => classifier.Classify(wrong)).Should().Throw<ArgumentException>().Where(e => e.ParamName == "images" && e.Message.Contains("[N, 3, 8, 8]"));
    }
}
