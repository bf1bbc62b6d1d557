namespace DiffusionKit.Text;

/// <summary>
/// The word tokenizer shared by DiffusionKit's own prompt encoders: lowercases (invariant culture) and splits text into
/// tokens of letters, digits and inner hyphens.
/// </summary>
/// <remarks>
/// Every other character (whitespace, punctuation) separates tokens, and leading or trailing hyphens are dropped, so
/// "non-hero" and "side-facing" stay one token and "Large, RED circle!" gives large, red, circle. Stateless and
/// thread-safe.
/// </remarks>
public static class WordTokenizer
{
    /// <summary>Splits <paramref name="text"/> into lowercase tokens.</summary>
    /// <param name="text">Any text; an empty or punctuation-only text gives no tokens.</param>
    /// <returns>A new list of tokens, in order; repeats are kept.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="text"/> is null.</exception>
    public static List<string> Tokenize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var tokens = new List<string>();
        string lower = text.ToLowerInvariant();
        int start = -1;
        for (int i = 0; i <= lower.Length; i++)
        {
            bool part = i < lower.Length && (char.IsLetterOrDigit(lower[i]) || lower[i] == '-');
            if (part && start < 0)
            {
                start = i;
            }
            else if (!part && start >= 0)
            {
                string token = lower[start..i].Trim('-');
                if (token.Length > 0)
                {
                    tokens.Add(token);
                }

                start = -1;
            }
        }

        return tokens;
    }
}
