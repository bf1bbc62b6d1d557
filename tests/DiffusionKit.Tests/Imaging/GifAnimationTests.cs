using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class GifAnimationTests
{
    [Fact]
    public void File_has_header_screen_size_loop_extension_one_descriptor_per_frame_and_trailer()
    {
        var frames = Enumerable.Range(0, 4).Select(i => TestImages.Gradient(10, 6, seed: i)).ToArray();

        byte[] gif = GifAnimation.FromImages(frames, delayCentiseconds: 5, lastFrameDelayCentiseconds: 200, loopCount: 3).Encode();

        gif.Take(6).Should().Equal("GIF89a"u8.ToArray());
        gif[^1].Should().Be(0x3B);
        var reader = GifReader.Parse(gif);
        reader.Width.Should().Be(10);
        reader.Height.Should().Be(6);
        reader.SawTrailer.Should().BeTrue();
        reader.LoopCount.Should().Be(3);
        reader.GlobalTable.Should().HaveCount(256 * 3);
        reader.Frames.Should().HaveCount(4);
        reader.Frames.Select(f => f.DelayCentiseconds).Should().Equal(5, 5, 5, 200);
        reader.Frames.Should().OnlyContain(f => f.Left == 0 && f.Top == 0 && f.Width == 10 && f.Height == 6 && f.LocalTable == null);
    }

    [Theory]
    [InlineData(4, 3)]
    [InlineData(128, 96)] // noise fills the 4096-entry table many times: exercises 12-bit codes and clear codes
    public void Uniform_palette_frame_decodes_to_the_nearest_palette_levels_of_the_input(int width, int height)
    {
        RgbImage input = TestImages.Noise(width, height, seed: width);
        byte[] gif = GifAnimation.FromImages([input, TestImages.Noise(width, height, seed: 99)]).Encode();

        var reader = GifReader.Parse(gif);
        var first = reader.Frames[0];
        byte[] indices = GifReader.DecodeLzw(first.LzwData, first.MinCodeSize, width * height);

        byte[] table = reader.GlobalTable!;
        int[][] levels = [Levels(6), Levels(7), Levels(6)];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i].Should().BeLessThan(252);
            for (int c = 0; c < 3; c++)
            {
                int value = input.Pixels[(i * 3) + c];
                int decoded = table[(indices[i] * 3) + c];
                levels[c].Should().Contain(decoded);
                int best = levels[c].Min(l => Math.Abs(l - value));
                Math.Abs(decoded - value).Should().Be(best, $"pixel {i} channel {c} ({value}) maps to a nearest level");
            }
        }

        reader.Frames[1].LzwData.Should().NotBeEmpty();
        GifReader.DecodeLzw(reader.Frames[1].LzwData, reader.Frames[1].MinCodeSize, width * height).Should().HaveCount(width * height);
    }

    [Fact]
    public void Long_runs_of_one_colour_round_trip_through_lzw()
    {
        // A flat image makes ever longer strings, so the table fills slowly and codes widen one bit at a time.
        RgbImage flat = RgbImage.Filled(300, 200, new RgbColor(0, 255, 0));

        var reader = GifReader.Parse(GifAnimation.FromImages([flat]).Encode());
        var frame = reader.Frames.Single();
        byte[] indices = GifReader.DecodeLzw(frame.LzwData, frame.MinCodeSize, 300 * 200);

        indices.Should().OnlyContain(i => i == indices[0]);
        reader.GlobalTable!.Skip(indices[0] * 3).Take(3).Should().Equal(0, 255, 0);
    }

    [Fact]
    public void Median_cut_per_frame_writes_local_palettes_that_are_exact_for_few_colours()
    {
        var a = RgbImage.Filled(5, 5, new RgbColor(10, 20, 30));
        a.Pixels[0] = 200;
        var c = RgbImage.Filled(5, 5, new RgbColor(7, 7, 7));

        var reader = GifReader.Parse(new GifAnimation([new GifFrame(a, 10), new GifFrame(c, 20)], GifPaletteMode.MedianCutPerFrame).Encode());

        reader.GlobalTable.Should().BeNull();
        reader.Frames.Should().HaveCount(2);
        foreach (var (frame, image) in reader.Frames.Zip([a, c]))
        {
            frame.LocalTable.Should().NotBeNull();
            byte[] indices = GifReader.DecodeLzw(frame.LzwData, frame.MinCodeSize, 25);
            for (int i = 0; i < 25; i++)
            {
                frame.LocalTable!.Skip(indices[i] * 3).Take(3).Should().Equal(image.Pixels.Skip(i * 3).Take(3), $"pixel {i}");
            }
        }
    }

    [Fact]
    public void Median_cut_global_reduces_many_colours_to_256_close_ones()
    {
        RgbImage gradient = TestImages.Gradient(64, 64, seed: 1);

        var reader = GifReader.Parse(GifAnimation.FromImages([gradient, gradient], paletteMode: GifPaletteMode.MedianCutGlobal).Encode());

        reader.GlobalTable.Should().HaveCount(256 * 3);
        var frame = reader.Frames[0];
        byte[] indices = GifReader.DecodeLzw(frame.LzwData, frame.MinCodeSize, 64 * 64);
        double error = 0;
        for (int i = 0; i < indices.Length; i++)
        {
            for (int ch = 0; ch < 3; ch++)
            {
                error += Math.Abs(reader.GlobalTable![(indices[i] * 3) + ch] - gradient.Pixels[(i * 3) + ch]);
            }
        }

        (error / (indices.Length * 3)).Should().BeLessThan(12, "median cut keeps colours close on average");
    }

    [Fact]
    public void Rejects_frames_of_different_sizes_and_out_of_range_delays()
    {
        var small = RgbImage.Filled(2, 2, RgbColor.Black);
        var large = RgbImage.Filled(3, 2, RgbColor.Black);

        FluentActions.Invoking(() => GifAnimation.FromImages([small, large])).Should().Throw<ArgumentException>().WithParameterName("frames");
        FluentActions.Invoking(() => new GifAnimation([new GifFrame(small, 70000)])).Should().Throw<ArgumentException>().WithParameterName("frames");
        FluentActions.Invoking(() => new GifAnimation([])).Should().Throw<ArgumentException>().WithParameterName("frames");
        FluentActions.Invoking(() => new GifAnimation([new GifFrame(small, 1)], loopCount: -1)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void Save_writes_the_encoded_bytes_atomically()
    {
        string path = Path.Combine(Path.GetTempPath(), "dk-gif-" + Guid.NewGuid().ToString("N") + ".gif");
        try
        {
            var animation = GifAnimation.FromImages([TestImages.Noise(3, 3, 1), TestImages.Noise(3, 3, 2)]);

            animation.Save(path);

            File.ReadAllBytes(path).Should().Equal(animation.Encode());
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int[] Levels(int count) =>
        Enumerable.Range(0, count).Select(k => (int)Math.Round(k * 255.0 / (count - 1), MidpointRounding.AwayFromZero)).ToArray();
}
