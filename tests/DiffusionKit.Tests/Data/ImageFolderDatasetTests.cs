using DiffusionKit.Data;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Data;

public sealed class ImageFolderDatasetTests
{
    private static string P(TempDirectory dir, string relative) => Path.Combine(dir.Path, relative);

    private static byte[] Pixels(ImageFolderDataset data, int index)
    {
        var bytes = new byte[data.ImageSize * data.ImageSize * 3];
        data.CopyImage(index, bytes);
        return bytes;
    }

    private static Dictionary<string, string> CaptionsByFile(ImageFolderDataset data) =>
        Enumerable.Range(0, data.Count).ToDictionary(i => Path.GetFileName(data.GetPath(i)), data.GetCaption);

    [Fact]
    public void Class_folders_give_their_names_as_captions()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "red things/1.png"), 8, 8, 255, 0, 0);
        ImageFiles.Solid(P(dir, "red things/2.png"), 8, 8, 250, 0, 0);
        ImageFiles.Solid(P(dir, "blue/3.png"), 8, 8, 0, 0, 255);

        var data = ImageFolderDataset.Open(dir.Path);

        data.Count.Should().Be(3);
        CaptionsByFile(data).Should().BeEquivalentTo(new Dictionary<string, string> { ["1.png"] = "red things", ["2.png"] = "red things", ["3.png"] = "blue" });
        Enumerable.Range(0, 3).Select(data.GetCaptionSource).Should().AllBeEquivalentTo(CaptionSource.ClassFolder);
        data.Skipped.Should().BeEmpty();
        data.DistinctCaptions.Should().Equal("blue", "red things");
    }

    [Fact]
    public void A_txt_file_beside_an_image_wins_over_its_folder_name_and_other_files_are_ignored()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "cats/a.png"), 8, 8, 9, 9, 9);
        File.WriteAllText(P(dir, "cats/a.txt"), "  a grey cat on a mat \n");
        ImageFiles.Solid(P(dir, "cats/b.png"), 8, 8, 9, 9, 9);
        ImageFiles.Solid(P(dir, "root.png"), 8, 8, 1, 2, 3);
        File.WriteAllText(P(dir, "root.txt"), "a root image");
        File.WriteAllText(P(dir, "README.md"), "not an image");

        var data = ImageFolderDataset.Open(dir.Path);

        CaptionsByFile(data).Should().BeEquivalentTo(new Dictionary<string, string> { ["a.png"] = "a grey cat on a mat", ["b.png"] = "cats", ["root.png"] = "a root image" });
        data.GetCaptionSource(Array.FindIndex(Enumerable.Range(0, data.Count).ToArray(), i => data.GetPath(i).EndsWith("a.png", StringComparison.Ordinal))).Should().Be(CaptionSource.TextFile);
        data.Ignored.Should().ContainSingle().Which.Should().EndWith("README.md");
    }

    [Fact]
    public void Metadata_jsonl_wins_uses_the_caption_column_and_names_lines_whose_file_is_missing()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "imgs/x.png"), 8, 8, 255, 0, 0);
        ImageFiles.Solid(P(dir, "imgs/y.png"), 8, 8, 0, 255, 0);
        ImageFiles.Solid(P(dir, "imgs/not-listed.png"), 8, 8, 0, 0, 255);
        File.WriteAllText(P(dir, "imgs/x.txt"), "the txt caption loses");
        File.WriteAllLines(P(dir, "metadata.jsonl"),
        [
            """{"file_name": "imgs/x.png", "caption": "a red square", "text": "other column"}""",
            "",
            """{"file_name": "imgs/y.png", "caption": "a green square"}""",
            """{"file_name": "imgs/gone.png", "caption": "missing"}""",
            """not json""",
        ]);

        var data = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { CaptionColumn = "caption" });

        CaptionsByFile(data).Should().BeEquivalentTo(new Dictionary<string, string> { ["x.png"] = "a red square", ["y.png"] = "a green square" });
        data.GetCaptionSource(0).Should().Be(CaptionSource.MetadataJsonl);
        data.Skipped.Should().HaveCount(2);
        data.Skipped[0].Path.Should().EndWith("gone.png");
        data.Skipped[0].Reason.Should().Contain("line 4").And.Contain("missing");
        data.Skipped[1].Path.Should().EndWith("metadata.jsonl:5");

        ((Action)(() => ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { CaptionColumn = "caption", Strict = true })))
            .Should().Throw<InvalidDataException>().WithMessage("*gone.png*missing*strict*");
    }

    [Fact]
    public void Grayscale_palette_and_alpha_pngs_become_rgb_with_alpha_over_black()
    {
        using var dir = new TempDirectory();
        ImageFiles.Png(P(dir, "c/gray.png"), 8, 8, ImageFiles.Gray, Enumerable.Repeat((byte)77, 64).ToArray());
        ImageFiles.Png(P(dir, "c/palette.png"), 8, 8, ImageFiles.Palette, Enumerable.Range(0, 64).Select(i => (byte)(i % 2)).ToArray(), palette: [10, 20, 30, 200, 150, 100]);
        var rgba = new byte[64 * 4];
        for (int i = 0; i < 64; i++)
        {
            (rgba[4 * i], rgba[(4 * i) + 1], rgba[(4 * i) + 2], rgba[(4 * i) + 3]) = i < 32 ? ((byte)200, (byte)100, (byte)50, (byte)255) : ((byte)200, (byte)100, (byte)50, (byte)0);
        }

        ImageFiles.Png(P(dir, "c/rgba.png"), 8, 8, ImageFiles.Rgba, rgba);
        var data = ImageFolderDataset.Open(dir.Path);
        var byName = Enumerable.Range(0, data.Count).ToDictionary(i => Path.GetFileName(data.GetPath(i)), i => Pixels(data, i));

        byName["gray.png"].Should().AllBeEquivalentTo((byte)77, "gray g becomes (g, g, g)");
        byName["palette.png"].Take(6).Should().Equal(10, 20, 30, 200, 150, 100);
        byName["rgba.png"].Take(3).Should().Equal(200, 100, 50);
        byName["rgba.png"].Skip(32 * 3).Should().AllBeEquivalentTo((byte)0, "transparent pixels are composited onto black");
    }

    [Fact]
    public void Half_transparent_pixels_are_scaled_by_alpha()
    {
        using var dir = new TempDirectory();
        var rgba = Enumerable.Range(0, 64).SelectMany(_ => new byte[] { 200, 100, 50, 128 }).ToArray();
        ImageFiles.Png(P(dir, "c/half.png"), 8, 8, ImageFiles.Rgba, rgba);

        var pixel = Pixels(ImageFolderDataset.Open(dir.Path), 0).Take(3).Select(b => (int)b).ToArray();

        pixel[0].Should().BeCloseTo(100, 1);
        pixel[1].Should().BeCloseTo(50, 1);
        pixel[2].Should().BeCloseTo(25, 1);
    }

    [Fact]
    public void Jpeg_decodes_close_to_the_original()
    {
        using var dir = new TempDirectory();
        var original = RgbImage.Filled(16, 16, new RgbColor(30, 160, 220));
        ImageFiles.Jpeg(P(dir, "c/photo.jpg"), original);

        var pixels = Pixels(ImageFolderDataset.Open(dir.Path), 0);

        pixels.Zip(original.Pixels).Should().AllSatisfy(p => Math.Abs(p.First - p.Second).Should().BeLessThanOrEqualTo(4));
    }

    [Fact]
    public void The_shorter_side_is_resized_and_the_centre_square_kept()
    {
        using var dir = new TempDirectory();

        // 48x16: left third red, middle green, right blue. At size 8 the shorter side halves and the centre is green.
        var samples = new byte[48 * 16 * 3];
        for (int y = 0; y < 16; y++)
        {
            for (int x = 0; x < 48; x++)
            {
                int at = ((y * 48) + x) * 3;
                samples[at + (x / 16)] = 255;
            }
        }

        ImageFiles.Png(P(dir, "c/wide.png"), 48, 16, ImageFiles.Rgb, samples);
        var data = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 8 });
        var pixels = Pixels(data, 0);

        data.ImageSize.Should().Be(8);
        for (int i = 0; i < pixels.Length; i += 3)
        {
            pixels[i].Should().BeLessThan(10);
            pixels[i + 1].Should().BeGreaterThan(245);
            pixels[i + 2].Should().BeLessThan(10);
        }
    }

    [Fact]
    public void Downscaling_keeps_the_layout_of_a_square_image()
    {
        using var dir = new TempDirectory();

        // 32x32: top half white, bottom half black -> at 8x8 rows 0-3 white, rows 4-7 black (away from the edge).
        var samples = new byte[32 * 32 * 3];
        Array.Fill(samples, (byte)255, 0, 16 * 32 * 3);
        ImageFiles.Png(P(dir, "c/half.png"), 32, 32, ImageFiles.Rgb, samples);

        var pixels = Pixels(ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 8 }), 0);

        pixels.Take(3 * 8 * 3).Should().AllSatisfy(b => b.Should().BeGreaterThan(240));
        pixels.Skip(5 * 8 * 3).Should().AllSatisfy(b => b.Should().BeLessThan(15));
    }

    [Fact]
    public void The_size_is_the_images_own_when_they_share_one_and_must_be_given_otherwise()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "a/1.png"), 12, 12, 1, 1, 1);
        ImageFiles.Solid(P(dir, "a/2.png"), 12, 12, 2, 2, 2);
        ImageFolderDataset.Open(dir.Path).ImageSize.Should().Be(12);

        ImageFiles.Solid(P(dir, "b/3.png"), 20, 10, 3, 3, 3);
        ((Action)(() => ImageFolderDataset.Open(dir.Path))).Should().Throw<InvalidDataException>().WithMessage("*12x12*20x10*--size*");
        var sized = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 16 });
        sized.ImageSize.Should().Be(16);
        sized.Count.Should().Be(3);

        ((Action)(() => ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 10 }))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Size");
    }

    [Fact]
    public void Corrupt_truncated_zero_byte_and_non_image_files_are_skipped_and_named_and_strict_mode_throws()
    {
        using var dir = new TempDirectory();
        ImageFiles.Solid(P(dir, "ok/good1.png"), 8, 8, 10, 20, 30);
        string good = ImageFiles.Solid(P(dir, "ok/good2.png"), 8, 8, 40, 50, 60);
        byte[] goodBytes = File.ReadAllBytes(good);
        File.WriteAllBytes(P(dir, "ok/empty.png"), Array.Empty<byte>());
        File.WriteAllBytes(P(dir, "ok/truncated.png"), goodBytes[..(goodBytes.Length - 30)]);
        File.WriteAllText(P(dir, "ok/text.png"), "this is not a picture");
        var corrupt = (byte[])goodBytes.Clone();
        for (int i = 40; i < corrupt.Length - 12; i++)
        {
            corrupt[i] ^= 0x5A;
        }

        File.WriteAllBytes(P(dir, "ok/corrupt.png"), corrupt);

        var data = ImageFolderDataset.Open(dir.Path);

        data.Count.Should().Be(2);
        data.Skipped.Select(s => Path.GetFileName(s.Path)).Should().BeEquivalentTo("corrupt.png", "empty.png", "text.png", "truncated.png");
        data.Skipped.Single(s => s.Path.EndsWith("empty.png", StringComparison.Ordinal)).Reason.Should().Contain("0 bytes");
        data.Skipped.Single(s => s.Path.EndsWith("text.png", StringComparison.Ordinal)).Reason.Should().Contain("not an image");
        data.Skipped.Single(s => s.Path.EndsWith("truncated.png", StringComparison.Ordinal)).ToString().Should().Contain("truncated.png");

        ((Action)(() => ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Strict = true })))
            .Should().Throw<InvalidDataException>().WithMessage("*.png'*strict*");
    }

    [Fact]
    public void An_empty_folder_or_one_without_captions_fails_naming_the_folder()
    {
        using var dir = new TempDirectory();
        ((Action)(() => ImageFolderDataset.Open(dir.Path))).Should().Throw<InvalidDataException>().WithMessage($"*{dir.Path}*no usable image*");

        ImageFiles.Solid(P(dir, "lonely.png"), 8, 8, 1, 1, 1);
        ((Action)(() => ImageFolderDataset.Open(dir.Path))).Should().Throw<InvalidDataException>().WithMessage("*lonely.png*no caption*");
        ((Action)(() => ImageFolderDataset.Open(P(dir, "nope")))).Should().Throw<DirectoryNotFoundException>();
    }

    [Fact]
    public void Streaming_keeps_resident_memory_under_the_cache_cap_and_reads_the_same_pixels()
    {
        using var dir = new TempDirectory();
        for (int i = 0; i < 12; i++)
        {
            ImageFiles.Solid(P(dir, $"c/{i:D2}.png"), 16, 16, (byte)(i * 20), (byte)(255 - (i * 20)), 7);
        }

        var cached = ImageFolderDataset.Open(dir.Path);
        long imageBytes = 16 * 16 * 3;
        var streamed = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { MaxCacheBytes = 3 * imageBytes });

        cached.IsStreaming.Should().BeFalse();
        cached.ResidentBytes.Should().Be(12 * imageBytes);
        streamed.IsStreaming.Should().BeTrue();
        streamed.ReadPerBatch.Should().BeTrue();
        streamed.ResidentBytes.Should().Be(0, "streaming drops the decoded images after the check");
        for (int round = 0; round < 2; round++)
        {
            for (int i = 0; i < 12; i++)
            {
                Pixels(streamed, i).Should().Equal(Pixels(cached, i));
                streamed.ResidentBytes.Should().BeLessThanOrEqualTo(3 * imageBytes);
            }
        }

        streamed.Prefetch([0, 1, 2, 3, 4, 5]);
        SpinWait.SpinUntil(() => streamed.ResidentBytes == 3 * imageBytes, TimeSpan.FromSeconds(10));
        streamed.ResidentBytes.Should().BeLessThanOrEqualTo(3 * imageBytes);
    }

    [Fact]
    public void Random_flip_and_crop_are_seeded_and_off_by_default()
    {
        using var dir = new TempDirectory();

        // 24x8: a gradient along x, so every crop offset and the flip give different pixels.
        var samples = new byte[24 * 8 * 3];
        for (int y = 0; y < 8; y++)
        {
            for (int x = 0; x < 24; x++)
            {
                samples[((y * 24) + x) * 3] = (byte)(x * 10);
            }
        }

        ImageFiles.Png(P(dir, "c/g.png"), 24, 8, ImageFiles.Rgb, samples);
        var plain = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 8 });
        var random = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { Size = 8, RandomFlip = true, RandomCrop = true });
        plain.Augments.Should().BeFalse();
        random.Augments.Should().BeTrue();

        var centre = Pixels(plain, 0);
        centre[0].Should().Be(80, "the centre window starts at x = 8");
        var augmented = new byte[8 * 8 * 3];
        plain.CopyAugmentedImage(0, augmented, seed: 5);
        augmented.Should().Equal(centre, "without the options an augmented read is the plain one");

        var views = new HashSet<string>();
        for (int seed = 0; seed < 40; seed++)
        {
            var a = new byte[8 * 8 * 3];
            var b = new byte[8 * 8 * 3];
            random.CopyAugmentedImage(0, a, seed);
            random.CopyAugmentedImage(0, b, seed);
            a.Should().Equal(b, "the same seed gives the same view");
            views.Add(Convert.ToHexString(a));
        }

        views.Count.Should().BeGreaterThan(10, "crop offsets 0..16 times flip give many views");
        Pixels(random, 0).Should().Equal(centre, "CopyImage stays the centred, unflipped view");
    }
}
