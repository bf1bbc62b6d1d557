using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class BitmapFontTests
{
    [Fact]
    public void Draws_the_glyph_bitmap_at_the_given_position_and_scale()
    {
        RgbImage image = RgbImage.Filled(20, 20, RgbColor.Black);

        BitmapFont.Draw(image, "T", 2, 3, RgbColor.White, scale: 2);

        // 'T': the top row is full, then only the middle column.
        string[] expected = ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."];
        for (int y = 0; y < 20; y++)
        {
            for (int x = 0; x < 20; x++)
            {
                int gx = (x - 2) / 2, gy = (y - 3) / 2;
                bool inGlyph = x >= 2 && y >= 3 && gx < 5 && gy < 7 && expected[gy][gx] == '#';
                image.GetPixel(x, y).Should().Be(inGlyph ? RgbColor.White : RgbColor.Black, $"pixel ({x}, {y})");
            }
        }
    }

    [Fact]
    public void Lower_case_is_drawn_as_capitals_and_unknown_characters_as_a_box()
    {
        RgbImage lower = RgbImage.Filled(5, 7, RgbColor.Black);
        RgbImage upper = RgbImage.Filled(5, 7, RgbColor.Black);
        RgbImage unknown = RgbImage.Filled(5, 7, RgbColor.Black);

        BitmapFont.Draw(lower, "q", 0, 0, RgbColor.White);
        BitmapFont.Draw(upper, "Q", 0, 0, RgbColor.White);
        BitmapFont.Draw(unknown, "\u00e9", 0, 0, RgbColor.White);

        lower.Pixels.Should().Equal(upper.Pixels);
        BitmapFont.HasGlyph('\u00e9').Should().BeFalse();
        for (int y = 0; y < 7; y++)
        {
            for (int x = 0; x < 5; x++)
            {
                bool edge = x == 0 || x == 4 || y == 0 || y == 6;
                unknown.GetPixel(x, y).Should().Be(edge ? RgbColor.White : RgbColor.Black);
            }
        }
    }

    [Fact]
    public void Every_documented_character_has_a_distinct_glyph()
    {
        const string chars = "abcdefghijklmnopqrstuvwxyz0123456789 .,:;-_/()%!?'+=#<>";
        var seen = new Dictionary<string, char>();
        foreach (char c in chars)
        {
            BitmapFont.HasGlyph(c).Should().BeTrue($"'{c}' is documented");
            RgbImage image = RgbImage.Filled(5, 7, RgbColor.Black);
            BitmapFont.Draw(image, c.ToString(), 0, 0, RgbColor.White);
            string key = Convert.ToBase64String(image.Pixels);
            seen.Should().NotContainKey(key, $"'{c}' must not look like '{(seen.TryGetValue(key, out char other) ? other : ' ')}'");
            seen[key] = c;
        }
    }

    [Theory]
    [InlineData("", 1, 0)]
    [InlineData("a", 1, 5)]
    [InlineData("abc", 1, 17)]
    [InlineData("abc", 3, 51)]
    public void MeasureWidth_counts_glyphs_and_spacing(string text, int scale, int expected) =>
        BitmapFont.MeasureWidth(text, scale).Should().Be(expected);

    [Fact]
    public void Wrap_breaks_at_spaces_and_splits_words_that_are_too_long()
    {
        BitmapFont.Wrap("a large red circle", 64).Should().Equal("a large", "red circle");
        BitmapFont.Wrap("a large red circle", 29).Should().Equal("a", "large", "red", "circl", "e");
        BitmapFont.Wrap("   ", 64).Should().BeEmpty();
    }

    [Fact]
    public void Draw_respects_the_clip_rectangle()
    {
        RgbImage image = RgbImage.Filled(12, 7, RgbColor.Black);

        BitmapFont.Draw(image, "##", 0, 0, RgbColor.White, clip: (0, 0, 5, 7));

        for (int y = 0; y < 7; y++)
        {
            for (int x = 5; x < 12; x++)
            {
                image.GetPixel(x, y).Should().Be(RgbColor.Black);
            }
        }

        image.Pixels.Should().Contain(255);
    }
}
