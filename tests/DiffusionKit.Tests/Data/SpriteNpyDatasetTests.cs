using DiffusionKit.Demo.Sprites;
using FluentAssertions;
using Xunit;
using static DiffusionKit.Tests.Data.NpyTestWriter;

namespace DiffusionKit.Tests.Data;

public sealed class SpriteNpyDatasetTests
{
    private static byte[] Images(int n, int size)
    {
        byte[] data = new byte[n * size * size * 3];
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)(i * 7);
        }

        return Build("|u1", new[] { n, size, size, 3 }, data);
    }

    [Fact]
    public void Loads_images_and_captions_from_one_hot_labels()
    {
        using var dir = new TempDirectory();
        string images = dir.Write("sprites.npy", Images(3, 4));
        string labels = dir.Write("labels.npy", Build("<f8", new[] { 3, 5 }, Doubles(0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1)));

        var set = SpriteNpyDataset.Load(images, labels);

        set.Count.Should().Be(3);
        set.ImageSize.Should().Be(4);
        set.Channels.Should().Be(3);
        Enumerable.Range(0, 3).Select(set.GetCaption).Should().Equal("food", "hero", "side-facing");
        byte[] image = new byte[48];
        set.CopyImage(1, image);
        image[0].Should().Be(unchecked((byte)(48 * 7)));
        image[47].Should().Be(unchecked((byte)(95 * 7)));
        SpriteNpyDataset.ClassNames.Should().Equal("hero", "non-hero", "food", "spell", "side-facing");
    }

    [Theory]
    [InlineData(new double[] { 0, 1, 0, 0.6, 0 })]
    [InlineData(new double[] { 0, 0, 0, 0, 0 })]
    [InlineData(new double[] { 0, 0.9, 0, 0, 0 })]
    public void A_row_that_is_not_one_hot_is_named(double[] badRow)
    {
        using var dir = new TempDirectory();
        string images = dir.Write("sprites.npy", Images(2, 2));
        string labels = dir.Write("labels.npy", Build("<f8", new[] { 2, 5 }, Doubles(new double[] { 1, 0, 0, 0, 0 }.Concat(badRow).ToArray())));

        Action act = () => SpriteNpyDataset.Load(images, labels);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{labels}*row 1*not one-hot*");
    }

    [Fact]
    public void Counts_must_match()
    {
        using var dir = new TempDirectory();
        string images = dir.Write("sprites.npy", Images(2, 2));
        string labels = dir.Write("labels.npy", Build("<f8", new[] { 1, 5 }, Doubles(1, 0, 0, 0, 0)));

        ((Action)(() => SpriteNpyDataset.Load(images, labels))).Should().Throw<InvalidDataException>()
            .WithMessage("*2 images*1 label rows*");
    }

    [Fact]
    public void Wrong_image_dtype_or_shape_is_rejected()
    {
        using var dir = new TempDirectory();
        string labels = dir.Write("labels.npy", Build("<f8", new[] { 1, 5 }, Doubles(1, 0, 0, 0, 0)));
        string floats = dir.Write("f.npy", Build("<f4", new[] { 1, 1, 1, 3 }, Floats(1, 2, 3)));
        string gray = dir.Write("g.npy", Build("|u1", new[] { 1, 2, 2, 1 }, new byte[4]));

        ((Action)(() => SpriteNpyDataset.Load(floats, labels))).Should().Throw<InvalidDataException>().WithMessage($"*{floats}*uint8*");
        ((Action)(() => SpriteNpyDataset.Load(gray, labels))).Should().Throw<InvalidDataException>().WithMessage($"*{gray}*(N, H, W, 3)*");
    }

    [Fact]
    public void Index_and_destination_are_checked()
    {
        using var dir = new TempDirectory();
        var set = SpriteNpyDataset.Load(
            dir.Write("s.npy", Images(1, 2)), dir.Write("l.npy", Build("<f8", new[] { 1, 5 }, Doubles(0, 0, 0, 1, 0))));

        set.GetLabel(0).Should().Be(3);
        ((Action)(() => set.GetCaption(1))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("index");
        ((Action)(() => set.CopyImage(0, new byte[11]))).Should().Throw<ArgumentException>().WithParameterName("destination");
    }
}
