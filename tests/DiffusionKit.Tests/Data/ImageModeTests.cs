using DiffusionKit.Data;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Data;

/// <summary>An image folder trains in its images' mode: grayscale (L, one channel), RGB, or the majority of a mixed folder.</summary>
public sealed class ImageModeTests
{
    private static string P(TempDirectory dir, string relative) => Path.Combine(dir.Path, relative);

    private static byte[] Pixels(ImageFolderDataset data, int index)
    {
        var buffer = new byte[data.ImageSize * data.ImageSize * data.Channels];
        data.CopyImage(index, buffer);
        return buffer;
    }

    private static Dictionary<string, byte[]> ByName(ImageFolderDataset data) =>
        Enumerable.Range(0, data.Count).ToDictionary(i => Path.GetFileName(data.GetPath(i)), i => Pixels(data, i));

    [Fact]
    public void A_grayscale_folder_reads_one_channel_per_pixel()
    {
        using var dir = new TempDirectory();
        ImageFiles.SolidGray(P(dir, "c/a.png"), 8, 8, 77);
        ImageFiles.SolidGray(P(dir, "c/b.png"), 8, 8, 200);

        var data = ImageFolderDataset.Open(dir.Path);

        data.ImageMode.Should().Be(ImageMode.Grayscale);
        data.Channels.Should().Be(1);
        data.ImageModeNote.Should().BeNull("no image was converted");
        var byName = ByName(data);
        byName["a.png"].Should().HaveCount(64).And.AllBeEquivalentTo((byte)77);
        byName["b.png"].Should().HaveCount(64).And.AllBeEquivalentTo((byte)200);
        var tooSmall = () => data.CopyImage(0, new byte[63]);
        tooSmall.Should().Throw<ArgumentException>().WithMessage("*8×8 L image needs 64*");
    }

    [Fact]
    public void Grayscale_with_alpha_is_grayscale_composited_onto_black()
    {
        using var dir = new TempDirectory();
        // Left half opaque grey 180, right half: grey 180 at alpha 128 (half) and, in the last column, alpha 0.
        var samples = new byte[8 * 8 * 2];
        for (int i = 0; i < 64; i++)
        {
            int x = i % 8;
            samples[2 * i] = 180;
            samples[(2 * i) + 1] = x < 4 ? (byte)255 : x < 7 ? (byte)128 : (byte)0;
        }

        ImageFiles.Png(P(dir, "c/ga.png"), 8, 8, ImageFiles.GrayAlpha, samples);

        var data = ImageFolderDataset.Open(dir.Path);

        data.ImageMode.Should().Be(ImageMode.Grayscale, "colour type 4 is grayscale with alpha, which becomes L");
        var row = Pixels(data, 0).Take(8).Select(b => (int)b).ToArray();
        row[0].Should().Be(180);
        row[4].Should().BeCloseTo(90, 1, "half transparent keeps half its value (over black)");
        row[7].Should().Be(0, "fully transparent is black");
    }

    [Fact]
    public void Rgba_alpha_is_composited_onto_black_on_a_known_pixel()
    {
        using var dir = new TempDirectory();
        var rgba = new byte[64 * 4];
        for (int i = 0; i < 64; i++)
        {
            (rgba[4 * i], rgba[(4 * i) + 1], rgba[(4 * i) + 2], rgba[(4 * i) + 3]) = ((byte)240, (byte)120, (byte)60, (byte)(i == 9 ? 64 : i == 10 ? 0 : 255));
        }

        ImageFiles.Png(P(dir, "c/rgba.png"), 8, 8, ImageFiles.Rgba, rgba);

        var data = ImageFolderDataset.Open(dir.Path);

        data.ImageMode.Should().Be(ImageMode.Rgb);
        var pixels = Pixels(data, 0);
        pixels.Skip(0).Take(3).Should().Equal(240, 120, 60);
        pixels.Skip(9 * 3).Take(3).Select(b => (int)b).Should().SatisfyRespectively(
            r => r.Should().BeCloseTo(60, 1), g => g.Should().BeCloseTo(30, 1), b => b.Should().BeCloseTo(15, 1));
        pixels.Skip(10 * 3).Take(3).Should().Equal(0, 0, 0);
    }

    [Fact]
    public void A_mixed_folder_takes_the_majority_mode_and_says_so()
    {
        using var dir = new TempDirectory();
        ImageFiles.SolidGray(P(dir, "c/g1.png"), 8, 8, 10);
        ImageFiles.SolidGray(P(dir, "c/g2.png"), 8, 8, 20);
        ImageFiles.SolidGray(P(dir, "c/g3.png"), 8, 8, 30);
        ImageFiles.Solid(P(dir, "c/rgb.png"), 8, 8, 200, 100, 50);

        var data = ImageFolderDataset.Open(dir.Path);

        data.ImageMode.Should().Be(ImageMode.Grayscale);
        data.Channels.Should().Be(1);
        data.ImageModeNote.Should().Be("1 of 4 images are RGB, 3 grayscale: training in grayscale (L) (the majority); the RGB images are converted with ITU-R BT.601 luma.");
        // (299·200 + 587·100 + 114·50) / 1000 = 124.2
        ByName(data)["rgb.png"].Should().AllBeEquivalentTo((byte)124);
        ByName(data)["g2.png"].Should().AllBeEquivalentTo((byte)20);
    }

    [Fact]
    public void A_tie_keeps_rgb_and_grey_becomes_three_equal_channels()
    {
        using var dir = new TempDirectory();
        ImageFiles.SolidGray(P(dir, "c/g.png"), 8, 8, 77);
        ImageFiles.Solid(P(dir, "c/rgb.png"), 8, 8, 200, 100, 50);

        var data = ImageFolderDataset.Open(dir.Path);

        data.ImageMode.Should().Be(ImageMode.Rgb);
        data.Channels.Should().Be(3);
        data.ImageModeNote.Should().StartWith("1 of 2 images are grayscale, 1 RGB: training in RGB (a tie keeps colour");
        ByName(data)["g.png"].Should().HaveCount(192).And.AllBeEquivalentTo((byte)77);
    }

    [Fact]
    public void The_option_overrides_the_majority_in_cached_and_streamed_reads()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "mixed/c/a.png"), 8, 8, 200, 100, 50);
        ImageFiles.Solid(P(dir, "mixed/c/b.png"), 8, 8, 0, 0, 255);
        ImageFiles.SolidGray(P(dir, "mixed/c/g.png"), 8, 8, 5);

        var grey = ImageFolderDataset.Open(P(dir, "mixed"), new ImageFolderOptions { ImageMode = ImageMode.Grayscale });
        var streamed = ImageFolderDataset.Open(P(dir, "mixed"), new ImageFolderOptions { ImageMode = ImageMode.Grayscale, MaxCacheBytes = 0 });
        ImageFiles.SolidGray(P(dir, "grey/c/g.png"), 8, 8, 5);
        var rgb = ImageFolderDataset.Open(P(dir, "grey"), new ImageFolderOptions { ImageMode = ImageMode.Rgb });

        grey.ImageMode.Should().Be(ImageMode.Grayscale);
        grey.ImageModeNote.Should().Contain("as set").And.Contain("2 of 3 images are RGB");
        ByName(grey)["a.png"].Should().AllBeEquivalentTo((byte)124);
        ByName(grey)["b.png"].Should().AllBeEquivalentTo((byte)29, "(114·255 + 500) / 1000");
        streamed.IsStreaming.Should().BeTrue();
        ByName(streamed)["a.png"].Should().Equal(ByName(grey)["a.png"], "a streamed read converts like a cached one");
        rgb.Channels.Should().Be(3, "RGB was asked for a grayscale folder");
    }

    [Fact]
    public void An_undefined_mode_is_an_error_naming_the_option()
    {
        using var dir = new TempDirectory();
        ImageFiles.SolidGray(P(dir, "c/g.png"), 8, 8, 5);

        var act = () => ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { ImageMode = (ImageMode)2 });

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "ImageMode").WithMessage("*Grayscale (L) or Rgb (RGB)*");
    }

    [Fact]
    public void Mode_names_parse_and_unknown_names_are_refused_naming_what()
    {
        ImageModeNames.Parse("L").Should().Be(ImageMode.Grayscale);
        ImageModeNames.Parse("rgb").Should().Be(ImageMode.Rgb);
        ImageModeNames.Format(ImageMode.Grayscale).Should().Be("L");
        ImageModeNames.FromChannels(1).Should().Be(ImageMode.Grayscale);
        ((int)ImageMode.Rgb).Should().Be(3, "the value is the channel count");
        var act = () => ImageModeNames.Parse("CMYK", "--image-mode");
        act.Should().Throw<ArgumentException>().WithMessage("--image-mode is 'CMYK'*allowed values: L, RGB*");
    }
}
