using DiffusionKit.Demo.Shapes;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Data;

public sealed class ShapesCatalogTests
{
    [Fact]
    public void Lists_48_distinct_prompts_in_the_documented_order()
    {
        ShapesCatalog.AllPrompts.Should().HaveCount(48).And.OnlyHaveUniqueItems();
        ShapesCatalog.AllPrompts[0].Should().Be("a small red circle");
        ShapesCatalog.AllPrompts[1].Should().Be("a small red square");
        ShapesCatalog.AllPrompts[4].Should().Be("a small green circle");
        ShapesCatalog.AllPrompts[24].Should().Be("a large red circle");
        ShapesCatalog.AllPrompts[47].Should().Be("a large cyan cross");
        for (int i = 0; i < 48; i++)
        {
            ShapesCatalog.IndexOf(ShapesCatalog.AllSpecs[i]).Should().Be(i);
        }
    }

    [Fact]
    public void Colours_are_exact()
    {
        ShapesCatalog.GetRgb(ShapeColor.Red).Should().Be(new Rgb(255, 0, 0));
        ShapesCatalog.GetRgb(ShapeColor.Green).Should().Be(new Rgb(0, 255, 0));
        ShapesCatalog.GetRgb(ShapeColor.Blue).Should().Be(new Rgb(0, 0, 255));
        ShapesCatalog.GetRgb(ShapeColor.Yellow).Should().Be(new Rgb(255, 255, 0));
        ShapesCatalog.GetRgb(ShapeColor.Magenta).Should().Be(new Rgb(255, 0, 255));
        ShapesCatalog.GetRgb(ShapeColor.Cyan).Should().Be(new Rgb(0, 255, 255));
    }

    [Fact]
    public void Every_caption_parses_back()
    {
        foreach (ShapeSpec spec in ShapesCatalog.AllSpecs)
        {
            ShapesCatalog.TryParse(spec.Caption, out ShapeSpec parsed).Should().BeTrue();
            parsed.Should().Be(spec);
        }

        ShapesCatalog.Parse("  A LARGE Red   circle ").Should().Be(new ShapeSpec(ShapeSize.Large, ShapeColor.Red, ShapeKind.Circle));
    }

    [Theory]
    [InlineData("large red circle")]
    [InlineData("a red large circle")]
    [InlineData("a large red circle please")]
    [InlineData("a huge red circle")]
    [InlineData("")]
    public void Rejects_anything_else(string caption)
    {
        ShapesCatalog.TryParse(caption, out _).Should().BeFalse();
        ((Action)(() => ShapesCatalog.Parse(caption))).Should().Throw<ArgumentException>()
            .WithParameterName("caption").WithMessage("*a {size} {color} {shape}*");
    }

    [Fact]
    public void Size_ranges_scale_with_resolution()
    {
        ShapesCatalog.MinSide(ShapeSize.Small, 16).Should().Be(5);
        ShapesCatalog.MaxSide(ShapeSize.Small, 16).Should().Be(7);
        ShapesCatalog.MinSide(ShapeSize.Large, 32).Should().Be(18);
        ShapesCatalog.MaxSide(ShapeSize.Large, 64).Should().Be(48);
        ((Action)(() => ShapesCatalog.MinSide(ShapeSize.Small, 24))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
