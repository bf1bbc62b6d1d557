using DiffusionKit.Demo.Evaluation;
using DiffusionKit.Demo.Shapes;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Evaluation;

public sealed class ShapesJudgeTests
{
    private static IEnumerable<(string Prompt, byte[] Rgb)> Samples(ShapesDataset set, Func<byte[], byte[]>? distort = null)
    {
        for (int i = 0; i < set.Count; i++)
        {
            byte[] image = new byte[set.ImageSize * set.ImageSize * 3];
            set.CopyImage(i, image);
            yield return (set.GetCaption(i), distort is null ? image : distort(image));
        }
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void Clean_images_score_at_least_99_percent(int size)
    {
        var set = new ShapesDataset(new ShapesDatasetOptions { Count = 500, ImageSize = size, Seed = 21 });

        AdherenceReport report = ShapesJudge.Score(Samples(set), size);

        report.Count.Should().Be(500);
        report.AllAccuracy.Should().BeGreaterThanOrEqualTo(0.99);
        report.PerPrompt.Should().HaveCount(48);
        report.PerPrompt.Sum(p => p.Count).Should().Be(500);
        report.PerPrompt[0].Prompt.Should().Be("a small red circle");
    }

    [Fact]
    public void Clean_64_px_images_are_judged_right()
    {
        var set = new ShapesDataset(new ShapesDatasetOptions { Count = 96, ImageSize = 64, Seed = 2 });

        ShapesJudge.Score(Samples(set), 64).AllAccuracy.Should().BeGreaterThanOrEqualTo(0.99);
    }

    [Fact]
    public void A_wrong_caption_fails_every_attribute()
    {
        var set = new ShapesDataset(new ShapesDatasetOptions { Count = 200, Seed = 4 });
        var redLargeCircles = Samples(set).Where(s => s.Prompt == "a large red circle").Select(s => s.Rgb).ToArray();
        redLargeCircles.Should().NotBeEmpty();

        AdherenceReport report = ShapesJudge.Score(redLargeCircles.Select(image => ("a small blue square", image)), 16);

        report.ColorAccuracy.Should().Be(0);
        report.KindAccuracy.Should().Be(0);
        report.SizeAccuracy.Should().Be(0);
        report.AllAccuracy.Should().Be(0);
        ShapesJudge.Judge(redLargeCircles[0], 16).Should().Be(new ShapeVerdict(ShapeColor.Red, ShapeKind.Circle, ShapeSize.Large));
    }

    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    public void Noisy_jittered_images_still_score_at_least_90_percent(int size)
    {
        var set = new ShapesDataset(new ShapesDatasetOptions { Count = 500, ImageSize = size, Seed = 9 });
        var random = new Random(99);

        byte[] Distort(byte[] image)
        {
            int dx = random.Next(-1, 2), dy = random.Next(-1, 2);
            byte[] result = new byte[image.Length];
            for (int y = 0; y < size; y++)
            {
                for (int x = 0; x < size; x++)
                {
                    int sx = x - dx, sy = y - dy;
                    for (int c = 0; c < 3; c++)
                    {
                        double v = (uint)sx < (uint)size && (uint)sy < (uint)size ? image[(((sy * size) + sx) * 3) + c] / 255.0 : 0;
                        double u1 = 1 - random.NextDouble(), u2 = random.NextDouble();
                        v += 0.1 * Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                        result[(((y * size) + x) * 3) + c] = (byte)Math.Clamp(Math.Round(v * 255), 0, 255);
                    }
                }
            }

            return result;
        }

        ShapesJudge.Score(Samples(set, Distort).ToArray(), size).AllAccuracy.Should().BeGreaterThanOrEqualTo(0.9);
    }

    [Fact]
    public void Dim_shapes_keep_their_hue_and_black_images_have_no_verdict()
    {
        byte[] image = new byte[16 * 16 * 3];
        ShapesJudge.Judge(image, 16).Should().Be(new ShapeVerdict(null, null, null));

        for (int y = 2; y < 12; y++)
        {
            for (int x = 3; x < 13; x++)
            {
                int o = ((y * 16) + x) * 3;
                image[o] = 140;
                image[o + 1] = 140;
            }
        }

        ShapesJudge.Judge(image, 16).Should().Be(new ShapeVerdict(ShapeColor.Yellow, ShapeKind.Square, ShapeSize.Large));
    }

    [Fact]
    public void Bad_input_names_the_parameter()
    {
        ((Action)(() => ShapesJudge.Judge(new byte[10], 16))).Should().Throw<ArgumentException>().WithParameterName("rgb");
        ((Action)(() => ShapesJudge.Score(new[] { ("a purple blob", new byte[768]) }, 16))).Should()
            .Throw<ArgumentException>().WithParameterName("samples").WithMessage("*'a purple blob'*");
        ((Action)(() => ShapesJudge.Score(Array.Empty<(string, byte[])>(), 16))).Should()
            .Throw<ArgumentException>().WithParameterName("samples");
    }
}
