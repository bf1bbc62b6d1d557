using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

/// <summary>Grayscale images (a one-channel model's samples) are written as grayscale PNGs, grids and GIFs.</summary>
public sealed class GrayscaleImageTests
{
    private static RgbImage Grey(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (int i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = pixels[i + 1] = pixels[i + 2] = (byte)random.Next(256);
        }

        return new RgbImage(width, height, pixels, ImageMode.Grayscale);
    }

    [Fact]
    public void One_channel_values_make_a_grayscale_image_and_three_an_rgb_one()
    {
        RgbImage.FromChannelsFirst(new float[] { 0, 0.5f, 1, 0.25f }, 1, 2, 2).Mode.Should().Be(ImageMode.Grayscale);
        RgbImage.FromChannelsFirst(new float[12], 3, 2, 2).Mode.Should().Be(ImageMode.Rgb);
        new RgbImage(1, 1, [1, 2, 3]).Mode.Should().Be(ImageMode.Rgb, "the old constructor stays RGB");
    }

    [Fact]
    public void A_grayscale_image_refuses_colour_pixels()
    {
        var act = () => new RgbImage(2, 1, [5, 5, 5, 5, 6, 5], ImageMode.Grayscale);
        act.Should().Throw<ArgumentException>().WithMessage("*pixel (1, 0) is (5, 6, 5)*");
    }

    [Fact]
    public void To_grayscale_uses_bt601_luma()
    {
        var image = new RgbImage(2, 1, [200, 100, 50, 77, 77, 77]).ToGrayscale();
        image.Mode.Should().Be(ImageMode.Grayscale);
        image.Pixels.Should().Equal(124, 124, 124, 77, 77, 77);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(33, 17)]
    public void A_grayscale_png_has_colour_type_0_and_round_trips(int width, int height)
    {
        var image = Grey(width, height, seed: width);

        byte[] png = PngEncoder.Encode(image);

        png[PngFormat.ColourTypeOffset].Should().Be(PngFormat.ColourTypeGrayscale);
        var decoded = PngDecoder.Decode(png);
        decoded.Mode.Should().Be(ImageMode.Grayscale);
        decoded.Pixels.Should().Equal(image.Pixels);
        png.Length.Should().BeLessThan(PngEncoder.Encode(new RgbImage(width, height, image.Pixels)).Length + 1, "one byte per pixel, not three");
    }

    [Fact]
    public void A_grayscale_png_decodes_to_the_same_values_with_skia()
    {
        var image = Grey(9, 6, seed: 2);
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "g.png");
        PngEncoder.Save(image, path);

        DiffusionKit.Data.ImageDecoder.ReadHeader(path).Mode.Should().Be(ImageMode.Grayscale);
        DiffusionKit.Data.ImageDecoder.Decode(path).Pixels.Should().Equal(image.Pixels);
    }

    [Fact]
    public void Upscale_keeps_the_mode_and_a_grey_grid_is_grayscale_unless_a_cell_or_colour_is_not()
    {
        var cells = new[] { Grey(4, 4, 1), Grey(4, 4, 2) };
        cells[0].Upscale(2).Mode.Should().Be(ImageMode.Grayscale);

        ImageGrid.Compose(cells, labels: ["a", "b"]).Mode.Should().Be(ImageMode.Grayscale);
        ImageGrid.Compose([cells[0], new RgbImage(4, 4, new byte[48])]).Mode.Should().Be(ImageMode.Rgb);
        ImageGrid.Compose(cells, new ImageGridOptions { TextColor = new RgbColor(255, 0, 0) }, ["a", "b"]).Mode.Should().Be(ImageMode.Rgb, "red text needs colour");
    }

    [Fact]
    public void A_grayscale_animation_uses_the_exact_256_grey_palette()
    {
        var frames = new[] { Grey(6, 6, 3), Grey(6, 6, 4) };

        var gif = GifReader.Parse(GifAnimation.FromImages(frames).Encode());

        gif.GlobalTable.Should().NotBeNull().And.HaveCount(256 * 3);
        for (int v = 0; v < 256; v++)
        {
            gif.GlobalTable!.Skip(v * 3).Take(3).Should().Equal((byte)v, (byte)v, (byte)v);
        }

        var indices = GifReader.DecodeLzw(gif.Frames[1].LzwData, gif.Frames[1].MinCodeSize, 36);
        indices.Should().Equal(frames[1].Pixels.Where((_, i) => i % 3 == 0), "each grey value is its own index: exact");
    }
}
