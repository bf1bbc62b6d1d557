using System.Collections.Frozen;
using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// A built-in 5x7 pixel font for captions in image grids: capital letters (lower-case text is drawn in capitals),
/// digits, space and <c>. , : ; - _ / ( ) % ! ? ' + = # &lt; &gt;</c>. Any other character is drawn as a hollow box,
/// so a missing glyph is visible rather than silently dropped. Glyphs advance by 6 pixels (one pixel of spacing),
/// all multiplied by the scale.
/// </summary>
/// <remarks>Thread-safe: the font is immutable.</remarks>
public static class BitmapFont
{
    /// <summary>Glyph width in font pixels.</summary>
    public const int GlyphWidth = 5;

    /// <summary>Glyph height in font pixels.</summary>
    public const int GlyphHeight = 7;

    /// <summary>Horizontal distance between the starts of two glyphs, in font pixels (glyph plus one pixel of spacing).</summary>
    public const int Advance = GlyphWidth + 1;

    // Each glyph is 7 rows, top to bottom; bit 4 of a row is the leftmost pixel.
    private static readonly byte[] Box = [0b11111, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b11111];

    private static readonly FrozenDictionary<char, byte[]> Glyphs = new Dictionary<char, byte[]>
    {
        ['A'] = [0b01110, 0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001],
        ['B'] = [0b11110, 0b10001, 0b10001, 0b11110, 0b10001, 0b10001, 0b11110],
        ['C'] = [0b01110, 0b10001, 0b10000, 0b10000, 0b10000, 0b10001, 0b01110],
        ['D'] = [0b11100, 0b10010, 0b10001, 0b10001, 0b10001, 0b10010, 0b11100],
        ['E'] = [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b11111],
        ['F'] = [0b11111, 0b10000, 0b10000, 0b11110, 0b10000, 0b10000, 0b10000],
        ['G'] = [0b01110, 0b10001, 0b10000, 0b10111, 0b10001, 0b10001, 0b01111],
        ['H'] = [0b10001, 0b10001, 0b10001, 0b11111, 0b10001, 0b10001, 0b10001],
        ['I'] = [0b01110, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        ['J'] = [0b00111, 0b00010, 0b00010, 0b00010, 0b00010, 0b10010, 0b01100],
        ['K'] = [0b10001, 0b10010, 0b10100, 0b11000, 0b10100, 0b10010, 0b10001],
        ['L'] = [0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b10000, 0b11111],
        ['M'] = [0b10001, 0b11011, 0b10101, 0b10101, 0b10001, 0b10001, 0b10001],
        ['N'] = [0b10001, 0b10001, 0b11001, 0b10101, 0b10011, 0b10001, 0b10001],
        ['O'] = [0b01110, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        ['P'] = [0b11110, 0b10001, 0b10001, 0b11110, 0b10000, 0b10000, 0b10000],
        ['Q'] = [0b01110, 0b10001, 0b10001, 0b10001, 0b10101, 0b10010, 0b01101],
        ['R'] = [0b11110, 0b10001, 0b10001, 0b11110, 0b10100, 0b10010, 0b10001],
        ['S'] = [0b01111, 0b10000, 0b10000, 0b01110, 0b00001, 0b00001, 0b11110],
        ['T'] = [0b11111, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00100],
        ['U'] = [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01110],
        ['V'] = [0b10001, 0b10001, 0b10001, 0b10001, 0b10001, 0b01010, 0b00100],
        ['W'] = [0b10001, 0b10001, 0b10001, 0b10101, 0b10101, 0b10101, 0b01010],
        ['X'] = [0b10001, 0b10001, 0b01010, 0b00100, 0b01010, 0b10001, 0b10001],
        ['Y'] = [0b10001, 0b10001, 0b10001, 0b01010, 0b00100, 0b00100, 0b00100],
        ['Z'] = [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b11111],
        ['0'] = [0b01110, 0b10001, 0b10011, 0b10101, 0b11001, 0b10001, 0b01110],
        ['1'] = [0b00100, 0b01100, 0b00100, 0b00100, 0b00100, 0b00100, 0b01110],
        ['2'] = [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b01000, 0b11111],
        ['3'] = [0b11111, 0b00010, 0b00100, 0b00010, 0b00001, 0b10001, 0b01110],
        ['4'] = [0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010],
        ['5'] = [0b11111, 0b10000, 0b11110, 0b00001, 0b00001, 0b10001, 0b01110],
        ['6'] = [0b00110, 0b01000, 0b10000, 0b11110, 0b10001, 0b10001, 0b01110],
        ['7'] = [0b11111, 0b00001, 0b00010, 0b00100, 0b01000, 0b01000, 0b01000],
        ['8'] = [0b01110, 0b10001, 0b10001, 0b01110, 0b10001, 0b10001, 0b01110],
        ['9'] = [0b01110, 0b10001, 0b10001, 0b01111, 0b00001, 0b00010, 0b01100],
        [' '] = [0, 0, 0, 0, 0, 0, 0],
        ['.'] = [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b01100],
        [','] = [0b00000, 0b00000, 0b00000, 0b00000, 0b01100, 0b00100, 0b01000],
        [':'] = [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b01100, 0b00000],
        [';'] = [0b00000, 0b01100, 0b01100, 0b00000, 0b01100, 0b00100, 0b01000],
        ['-'] = [0b00000, 0b00000, 0b00000, 0b11111, 0b00000, 0b00000, 0b00000],
        ['_'] = [0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b00000, 0b11111],
        ['/'] = [0b00000, 0b00001, 0b00010, 0b00100, 0b01000, 0b10000, 0b00000],
        ['('] = [0b00010, 0b00100, 0b01000, 0b01000, 0b01000, 0b00100, 0b00010],
        [')'] = [0b01000, 0b00100, 0b00010, 0b00010, 0b00010, 0b00100, 0b01000],
        ['%'] = [0b11000, 0b11001, 0b00010, 0b00100, 0b01000, 0b10011, 0b00011],
        ['!'] = [0b00100, 0b00100, 0b00100, 0b00100, 0b00100, 0b00000, 0b00100],
        ['?'] = [0b01110, 0b10001, 0b00001, 0b00010, 0b00100, 0b00000, 0b00100],
        ['\''] = [0b01100, 0b00100, 0b01000, 0b00000, 0b00000, 0b00000, 0b00000],
        ['+'] = [0b00000, 0b00100, 0b00100, 0b11111, 0b00100, 0b00100, 0b00000],
        ['='] = [0b00000, 0b00000, 0b11111, 0b00000, 0b11111, 0b00000, 0b00000],
        ['#'] = [0b01010, 0b01010, 0b11111, 0b01010, 0b11111, 0b01010, 0b01010],
        ['<'] = [0b00010, 0b00100, 0b01000, 0b10000, 0b01000, 0b00100, 0b00010],
        ['>'] = [0b01000, 0b00100, 0b00010, 0b00001, 0b00010, 0b00100, 0b01000],
    }.ToFrozenDictionary();

    /// <summary>Whether <paramref name="c"/> has its own glyph (letters in either case count); other characters are drawn as a box.</summary>
    /// <param name="c">The character.</param>
    /// <returns>True when the font has a glyph for it.</returns>
    public static bool HasGlyph(char c) => Glyphs.ContainsKey(char.ToUpperInvariant(c));

    /// <summary>The width in pixels that <paramref name="text"/> takes when drawn at <paramref name="scale"/>: <c>(6 * length - 1) * scale</c>, 0 for empty text.</summary>
    /// <param name="text">The text, on one line.</param>
    /// <param name="scale">Pixels per font pixel; 1 or more.</param>
    /// <returns>The width in pixels.</returns>
    public static int MeasureWidth(string text, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        return text.Length == 0 ? 0 : checked(((Advance * text.Length) - 1) * scale);
    }

    /// <summary>
    /// Draws one line of text into an image; only glyph pixels are written (the background is left as it is).
    /// Pixels outside the clip rectangle, or outside the image, are not drawn.
    /// </summary>
    /// <param name="image">The image to draw into.</param>
    /// <param name="text">The text, on one line.</param>
    /// <param name="x">Left edge of the first glyph.</param>
    /// <param name="y">Top edge of the glyphs.</param>
    /// <param name="color">The glyph colour.</param>
    /// <param name="scale">Pixels per font pixel; 1 or more.</param>
    /// <param name="clip">The rectangle (x, y, width, height) drawing is limited to, or null for the whole image.</param>
    public static void Draw(RgbImage image, string text, int x, int y, RgbColor color, int scale = 1, (int X, int Y, int Width, int Height)? clip = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var (cx, cy, cw, ch) = clip ?? (0, 0, image.Width, image.Height);
        int left = Math.Max(0, cx), top = Math.Max(0, cy);
        int right = Math.Min(image.Width, cx + cw), bottom = Math.Min(image.Height, cy + ch);
        for (int n = 0; n < text.Length; n++)
        {
            byte[] glyph = Glyphs.GetValueOrDefault(char.ToUpperInvariant(text[n]), Box);
            int gx = x + (n * Advance * scale);
            for (int row = 0; row < GlyphHeight; row++)
            {
                for (int col = 0; col < GlyphWidth; col++)
                {
                    if ((glyph[row] & (1 << (GlyphWidth - 1 - col))) == 0)
                    {
                        continue;
                    }

                    for (int dy = 0; dy < scale; dy++)
                    {
                        int py = y + (row * scale) + dy;
                        if (py < top || py >= bottom)
                        {
                            continue;
                        }

                        for (int dx = 0; dx < scale; dx++)
                        {
                            int px = gx + (col * scale) + dx;
                            if (px < left || px >= right)
                            {
                                continue;
                            }

                            int i = ((py * image.Width) + px) * 3;
                            image.Pixels[i] = color.R;
                            image.Pixels[i + 1] = color.G;
                            image.Pixels[i + 2] = color.B;
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Breaks text into lines no wider than <paramref name="maxWidth"/> pixels at <paramref name="scale"/>: at spaces
    /// where possible, inside a word when the word alone is too wide. Every line holds at least one character.
    /// </summary>
    /// <param name="text">The text; line breaks in it are treated as spaces.</param>
    /// <param name="maxWidth">The widest a line may be, in pixels.</param>
    /// <param name="scale">Pixels per font pixel; 1 or more.</param>
    /// <returns>The lines, none of them empty; no lines for blank text.</returns>
    public static IReadOnlyList<string> Wrap(string text, int maxWidth, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        int perLine = Math.Max(1, (maxWidth + scale) / (Advance * scale));
        var lines = new List<string>();
        string current = string.Empty;
        foreach (string word in text.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            string rest = word;
            if (current.Length > 0 && current.Length + 1 + rest.Length <= perLine)
            {
                current += " " + rest;
                continue;
            }

            if (current.Length > 0)
            {
                lines.Add(current);
            }

            while (rest.Length > perLine)
            {
                lines.Add(rest[..perLine]);
                rest = rest[perLine..];
            }

            current = rest;
        }

        if (current.Length > 0)
        {
            lines.Add(current);
        }

        return lines;
    }
}
