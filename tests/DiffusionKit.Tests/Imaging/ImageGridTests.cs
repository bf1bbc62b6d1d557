using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class ImageGridTests
{
    private static readonly RgbColor Red = new(255, 0, 0);
    private static readonly RgbColor Grey = new(40, 40, 40);

    [Fact]
    public void Dimensions_without_labels_follow_the_documented_formula()
    {
        var images = Enumerable.Range(0, 5).Select(_ => RgbImage.Filled(16, 12, Red)).ToArray();

        RgbImage grid = ImageGrid.Compose(images, new ImageGridOptions { Columns = 3, Padding = 2, Scale = 2 });

        // 3 columns, 2 rows of 32x24 cells.
        grid.Width.Should().Be(2 + (3 * (32 + 2)));
        grid.Height.Should().Be(2 + (2 * (24 + 2)));
    }

    [Fact]
    public void Places_upscaled_cells_and_fills_the_rest_with_the_background()
    {
        var a = new RgbImage(2, 1, [10, 0, 0, 20, 0, 0]);
        var b = new RgbImage(2, 1, [30, 0, 0, 40, 0, 0]);

        RgbImage grid = ImageGrid.Compose([a, b], new ImageGridOptions { Columns = 2, Padding = 1, Scale = 2, Background = Grey });

        grid.Width.Should().Be(1 + (2 * (4 + 1)));
        grid.Height.Should().Be(1 + 2 + 1);
        grid.GetPixel(0, 0).Should().Be(Grey);
        grid.GetPixel(1, 1).R.Should().Be(10);
        grid.GetPixel(2, 2).R.Should().Be(10);
        grid.GetPixel(3, 1).R.Should().Be(20);
        grid.GetPixel(5, 1).Should().Be(Grey);
        grid.GetPixel(6, 1).R.Should().Be(30);
        grid.GetPixel(9, 2).R.Should().Be(40);
        grid.GetPixel(10, 2).Should().Be(Grey);
    }

    [Theory]
    [InlineData(LabelPlacement.Below)]
    [InlineData(LabelPlacement.Above)]
    public void Caption_pixels_appear_only_in_the_label_band(LabelPlacement placement)
    {
        var images = new[] { RgbImage.Filled(16, 16, Red), RgbImage.Filled(16, 16, Red) };
        var options = new ImageGridOptions { Columns = 2, Padding = 2, Scale = 4, LabelPlacement = placement };

        RgbImage grid = ImageGrid.Compose(images, options, labels: ["a large red circle", null]);

        // Cells 64 px wide hold 10 glyphs a line: "a large" / "red circle" -> 2 lines of 9 px.
        int band = 2 * 9;
        grid.Width.Should().Be(2 + (2 * (64 + 2)));
        grid.Height.Should().Be(2 + 64 + band + 2);
        int bandTop = placement == LabelPlacement.Below ? 2 + 64 : 2;
        int cellTop = placement == LabelPlacement.Below ? 2 : 2 + band;

        var white = Pixels(grid).Where(p => p.Color == RgbColor.White).ToList();
        white.Should().NotBeEmpty();
        white.Should().OnlyContain(p => p.Y >= bandTop && p.Y < bandTop + band && p.X >= 2 && p.X < 2 + 64, "the caption belongs to the first cell's band");
        white.Select(p => p.Y).Distinct().Count().Should().BeGreaterThan(9, "two lines of text are drawn");
        grid.GetPixel(2, cellTop).Should().Be(Red);
        grid.GetPixel(2 + 64 + 2, cellTop + 63).Should().Be(Red);
        grid.GetPixel(2 + 64 + 2 + 10, bandTop + 5).Should().Be(RgbColor.Black, "the second cell has no caption");
    }

    [Fact]
    public void Caption_renders_the_expected_glyphs()
    {
        RgbImage grid = ImageGrid.Compose([RgbImage.Filled(8, 8, Red)], new ImageGridOptions { Padding = 0 }, labels: ["i"]);

        // Band is 9 px under the 8x8 cell; 'I' (5 px) is centred in 8 px at x = 1, one pixel below the band top.
        RgbImage expected = RgbImage.Filled(8, 9, RgbColor.Black);
        BitmapFont.Draw(expected, "I", 1, 1, RgbColor.White);
        for (int y = 0; y < 9; y++)
        {
            for (int x = 0; x < 8; x++)
            {
                grid.GetPixel(x, 8 + y).Should().Be(expected.GetPixel(x, y), $"band pixel ({x}, {y})");
            }
        }
    }

    [Fact]
    public void Row_labels_add_a_left_column_and_are_drawn_in_it()
    {
        var images = Enumerable.Range(0, 4).Select(_ => RgbImage.Filled(10, 10, Red)).ToArray();
        var options = new ImageGridOptions { Columns = 2, Padding = 1, FontScale = 1 };

        RgbImage grid = ImageGrid.Compose(images, options, rowLabels: ["t=10", "t=0"]);

        int labelWidth = BitmapFont.MeasureWidth("t=10") + 2;
        grid.Width.Should().Be(1 + labelWidth + (2 * (10 + 1)));
        grid.Height.Should().Be(1 + (2 * (10 + 1)));
        var white = Pixels(grid).Where(p => p.Color == RgbColor.White).ToList();
        white.Should().OnlyContain(p => p.X >= 1 && p.X < 1 + labelWidth);
        white.Should().Contain(p => p.Y < 11).And.Contain(p => p.Y > 12, "each row has its label");
        grid.GetPixel(1 + labelWidth, 1).Should().Be(Red);
    }

    [Fact]
    public void Columns_shrink_to_the_image_count()
    {
        RgbImage grid = ImageGrid.Compose([RgbImage.Filled(4, 4, Red)], new ImageGridOptions { Columns = 8, Padding = 0 });

        grid.Width.Should().Be(4);
        grid.Height.Should().Be(4);
    }

    [Fact]
    public void Rejects_mismatched_inputs_and_bad_options_naming_them()
    {
        var a = RgbImage.Filled(4, 4, Red);
        var b = RgbImage.Filled(5, 4, Red);

        FluentActions.Invoking(() => ImageGrid.Compose([a, b])).Should().Throw<ArgumentException>().WithParameterName("images");
        FluentActions.Invoking(() => ImageGrid.Compose([])).Should().Throw<ArgumentException>().WithParameterName("images");
        FluentActions.Invoking(() => ImageGrid.Compose([a, a], labels: ["x"])).Should().Throw<ArgumentException>().WithParameterName("labels");
        FluentActions.Invoking(() => ImageGrid.Compose([a, a], new ImageGridOptions { Columns = 1 }, rowLabels: ["x"]))
            .Should().Throw<ArgumentException>().WithParameterName("rowLabels");
        FluentActions.Invoking(() => ImageGrid.Compose([a], new ImageGridOptions { Scale = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Scale");
        FluentActions.Invoking(() => ImageGrid.Compose([a], new ImageGridOptions { Columns = 0 }))
            .Should().Throw<ArgumentOutOfRangeException>().WithParameterName("Columns");
    }

    private static IEnumerable<(int X, int Y, RgbColor Color)> Pixels(RgbImage image)
    {
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                yield return (x, y, image.GetPixel(x, y));
            }
        }
    }
}
