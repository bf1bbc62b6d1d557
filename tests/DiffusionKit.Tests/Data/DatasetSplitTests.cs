using DiffusionKit.Data;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Data;

/// <summary><see cref="DatasetSplit"/>: the held-out images are deterministic, disjoint from training, sized and stratified.</summary>
public sealed class DatasetSplitTests
{
    /// <summary>Images whose one pixel byte is their index, with the given captions.</summary>
    private sealed class Indexed(IReadOnlyList<string> captions) : IImageCaptionDataset
    {
        public int Count => captions.Count;

        public int ImageSize => 1;

        public int Channels => 1;

        public string GetCaption(int index) => captions[index];

        public void CopyImage(int index, Span<byte> destination) => destination[0] = (byte)index;
    }

    private static Indexed Captions(int count, int distinct) =>
        new(Enumerable.Range(0, count).Select(i => $"caption {i % distinct}").ToList());

    [Fact]
    public void The_same_data_and_seed_hold_out_the_same_images_and_another_seed_others()
    {
        var data = Captions(200, 7);
        var a = DatasetSplit.Create(data, 0.05, seed: 3);
        var b = DatasetSplit.Create(data, 0.05, seed: 3);
        var c = DatasetSplit.Create(data, 0.05, seed: 4);

        a.ValidationIndices.Should().HaveCount(10).And.Equal(b.ValidationIndices);
        a.TrainingIndices.Should().Equal(b.TrainingIndices);
        c.ValidationIndices.Should().NotEqual(a.ValidationIndices, "the seed picks the images");
    }

    [Fact]
    public void Training_and_validation_are_disjoint_views_that_cover_the_data()
    {
        var data = Captions(101, 5);
        var split = DatasetSplit.Create(data, 0.1, seed: 0);

        split.TrainingIndices.Intersect(split.ValidationIndices).Should().BeEmpty("a trained-on image is never held out");
        split.TrainingIndices.Concat(split.ValidationIndices).Order().Should().Equal(Enumerable.Range(0, 101));
        split.Training.Count.Should().Be(split.TrainingIndices.Count);
        split.Validation.Count.Should().Be(split.ValidationIndices.Count);

        // The views read the source's images and captions at those indices.
        var pixel = new byte[1];
        var trained = Enumerable.Range(0, split.Training.Count).Select(i =>
        {
            split.Training.CopyImage(i, pixel);
            split.Training.GetCaption(i).Should().Be(data.GetCaption(pixel[0]));
            return (int)pixel[0];
        }).ToList();
        trained.Should().Equal(split.TrainingIndices);
        var held = Enumerable.Range(0, split.Validation.Count).Select(i =>
        {
            split.Validation.CopyImage(i, pixel);
            return (int)pixel[0];
        }).ToList();
        held.Should().Equal(split.ValidationIndices);
        held.Intersect(trained).Should().BeEmpty();
    }

    [Theory]
    [InlineData(12, 0.05, 1)] // at least one
    [InlineData(100, 0.05, 5)]
    [InlineData(2, 0.5, 1)] // always one left to train on
    [InlineData(20000, 0.05, DatasetSplit.DefaultMaxValidationImages)] // capped
    [InlineData(50, 0, 0)] // off
    public void The_count_is_the_fraction_at_least_one_and_at_most_the_cap(int count, double fraction, int expected)
    {
        DatasetSplit.Create(Captions(count, 3), fraction, seed: 1).ValidationIndices.Should().HaveCount(expected);
    }

    [Fact]
    public void Repeated_captions_each_give_their_share()
    {
        var split = DatasetSplit.Create(Captions(120, 3), 0.1, seed: 9);

        split.ValidationIndices.GroupBy(i => i % 3).Select(g => g.Count()).Should().Equal(4, 4, 4);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void Fractions_outside_0_to_1_are_refused(double fraction)
    {
        var act = () => DatasetSplit.Create(Captions(10, 2), fraction, seed: 0);
        act.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("fraction");
    }
}
