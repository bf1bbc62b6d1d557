using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

/// <summary>The demo package's grid of a training snapshot's samples: a row per prompt, the prompt under its first image.</summary>
public sealed class TrainingSampleGridTests
{
    private static TrainingSampleSet Set(int size) => new(
        42,
        ["a red circle", "a blue square"],
        4,
        Enumerable.Range(0, 8).Select(k => RgbImage.Filled(size, size, new RgbColor((byte)(30 * k), 100, 200))).ToList());

    [Theory]
    [InlineData(16, 4)]
    [InlineData(32, 2)]
    [InlineData(64, 1)]
    public void Compose_lays_each_prompt_out_as_a_labelled_row_of_about_64_pixel_cells(int size, int scale)
    {
        var set = Set(size);
        RgbImage grid = TrainingSampleGrid.Compose(set);

        // 4 columns of size*scale = 64 px cells, 2 px padding; under each row a caption band of 2 lines ("a red" /
        // "circle", "a blue" / "square" at 64 px) of 9 px each.
        (grid.Width, grid.Height).Should().Be((2 + (4 * (64 + 2)), 2 + (2 * (64 + 18 + 2))));
        var expected = ImageGrid.Compose(
            set.Images,
            new ImageGridOptions { Columns = 4, Scale = scale, Padding = 2 },
            ["a red circle", null, null, null, "a blue square", null, null, null]);
        grid.Pixels.Should().Equal(expected.Pixels);
    }

    [Fact]
    public void Save_writes_the_grid_as_the_steps_png()
    {
        using var dir = new TempDirectory();
        var set = Set(16);

        string path = TrainingSampleGrid.Save(set, dir.File("samples"));

        path.Should().Be(Path.Combine(dir.File("samples"), "step-0000042.png"));
        PngDecoder.Load(path).Pixels.Should().Equal(TrainingSampleGrid.Compose(set).Pixels);
        Directory.EnumerateFileSystemEntries(dir.File("samples")).Should().ContainSingle("nothing but the grid is written");
    }
}
