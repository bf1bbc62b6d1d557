using DiffusionKit.Imaging;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Training;

public sealed class TrainingSampleSetTests
{
    private static RgbImage Cell(byte shade, int size = 4) => RgbImage.Filled(size, size, new RgbColor(shade, shade, shade));

    [Fact]
    public void Images_are_prompt_by_prompt()
    {
        var set = new TrainingSampleSet(7, ["a", "b"], 3, [Cell(0), Cell(1), Cell(2), Cell(10), Cell(11), Cell(12)]);

        set.Step.Should().Be(7);
        set.Image(0, 2).Pixels[0].Should().Be(2);
        set.Image(1, 0).Pixels[0].Should().Be(10);
        set.Image(1, 2).Pixels[0].Should().Be(12);
        FluentActions.Invoking(() => set.Image(2, 0)).Should().Throw<ArgumentOutOfRangeException>();
        FluentActions.Invoking(() => set.Image(0, 3)).Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void The_lists_are_copied()
    {
        var prompts = new List<string> { "a" };
        var images = new List<RgbImage> { Cell(0) };
        var set = new TrainingSampleSet(1, prompts, 1, images);

        prompts.Add("b");
        images.Add(Cell(1));

        set.Prompts.Should().Equal("a");
        set.Images.Should().HaveCount(1);
    }

    [Fact]
    public void A_set_that_does_not_add_up_is_refused()
    {
        FluentActions.Invoking(() => new TrainingSampleSet(1, [], 1, [])).Should().Throw<ArgumentException>().WithParameterName("prompts");
        FluentActions.Invoking(() => new TrainingSampleSet(1, ["a"], 2, [Cell(0)])).Should().Throw<ArgumentException>().WithParameterName("images");
        FluentActions.Invoking(() => new TrainingSampleSet(1, ["a"], 2, [Cell(0), Cell(0, size: 8)])).Should().Throw<ArgumentException>().WithParameterName("images");
        FluentActions.Invoking(() => new TrainingSampleSet(1, ["a"], 0, [])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("perPrompt");
        FluentActions.Invoking(() => new TrainingSampleSet(-1, ["a"], 1, [Cell(0)])).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("step");
    }
}
