using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Text;

/// <summary>
/// Encodes a prompt as a multi-hot vector over a fixed vocabulary: entry i is 1 when word i occurs in the prompt.
/// </summary>
/// <remarks>
/// <para>
/// Tokenisation: the prompt is lowercased (invariant culture) and split into tokens made of letters, digits and
/// inner hyphens; every other character (whitespace, punctuation) separates tokens, and leading or trailing hyphens
/// are dropped — so "non-hero" and "side-facing" stay one token, and "Large, RED circle!" gives large, red, circle.
/// Stop words (<see cref="DefaultStopWords"/> unless the constructor is given others) are ignored. A repeated word
/// still counts once (value 1). Any other word not in <see cref="Vocabulary"/> is an error, never silently dropped.
/// </para>
/// <para>
/// Weights: a whitespace-separated item <c>word:number</c> (invariant culture, e.g. "hero:1 food:0.6") sets that
/// word's entry to the number instead of 1, which reproduces the course's mixed contexts like
/// <c>[1, 0, 0.6, 0, 0]</c>. A word may be given only once when it carries a weight.
/// <see cref="EncodeWeighted"/> does the same from dictionaries.
/// </para>
/// <para>The empty or whitespace-only prompt encodes to the zero vector, the unconditional context.</para>
/// <para>Thread-safety: immutable; <see cref="Encode"/> may be called concurrently.</para>
/// </remarks>
public sealed class BagOfWordsEncoder : ITextEncoder
{
    /// <summary>The largest word weight accepted (in absolute value): 100. Larger ones overflow the network to NaN.</summary>
    public const float MaxWordWeight = 100;

    private readonly Dictionary<string, int> _index;

    /// <summary>Creates an encoder.</summary>
    /// <param name="vocabulary">The words, in context-vector order; lowercase single tokens, no duplicates, no stop words.</param>
    /// <param name="stopWords">Words to ignore; null means <see cref="DefaultStopWords"/>; pass an empty list to ignore nothing.</param>
    /// <exception cref="ArgumentNullException">When <paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentException">When the vocabulary is empty, holds a duplicate, a stop word, or an entry that is not exactly one token.</exception>
    public BagOfWordsEncoder(IEnumerable<string> vocabulary, IEnumerable<string>? stopWords = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var stop = new HashSet<string>(StringComparer.Ordinal);
        foreach (string word in stopWords ?? DefaultStopWords)
        {
            if (word is null || Tokenize(word) is not [string token])
            {
                throw new ArgumentException($"Stop word '{word}' is not a single token; use lowercase words of letters, digits and inner hyphens.", nameof(stopWords));
            }

            stop.Add(token);
        }

        StopWords = stop;
        var words = new List<string>();
        _index = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in vocabulary)
        {
            if (word is null || Tokenize(word) is not [string token] || token != word)
            {
                throw new ArgumentException(
                    $"Vocabulary entry '{word}' is not a single lowercase token (letters, digits and inner hyphens); fix or remove it.",
                    nameof(vocabulary));
            }

            if (stop.Contains(token))
            {
                throw new ArgumentException($"Vocabulary entry '{word}' is a stop word and could never be encoded; remove it from the vocabulary or the stop words.", nameof(vocabulary));
            }

            if (!_index.TryAdd(token, words.Count))
            {
                throw new ArgumentException($"Vocabulary entry '{word}' appears twice; each word needs one position.", nameof(vocabulary));
            }

            words.Add(token);
        }

        if (words.Count == 0)
        {
            throw new ArgumentException("The vocabulary is empty; give at least one word.", nameof(vocabulary));
        }

        Vocabulary = words;
    }

    /// <summary>The stop words used when none are given: "a", "an", "the", "of", "with".</summary>
    public static IReadOnlyList<string> DefaultStopWords { get; } = new[] { "a", "an", "the", "of", "with" };

    /// <summary>The words, in context-vector order.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>The words ignored in prompts.</summary>
    public IReadOnlySet<string> StopWords { get; }

    /// <inheritdoc />
    public int ContextSize => Vocabulary.Count;

    /// <summary>
    /// Builds the vocabulary from training captions: every distinct token (<see cref="WordTokenizer"/>) that is not a
    /// stop word, in ordinal order, so the same captions always give the same context layout. The vocabulary is saved
    /// in checkpoints (<c>text_encoder.vocabulary</c>), so sampling later encodes prompts exactly as training did.
    /// </summary>
    /// <param name="captions">The training captions (repeats are fine).</param>
    /// <param name="stopWords">Words to drop; null means <see cref="DefaultStopWords"/>.</param>
    /// <returns>A new encoder.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="captions"/> or one caption is null.</exception>
    /// <exception cref="ArgumentException">When the captions hold no word besides stop words.</exception>
    public static BagOfWordsEncoder FromCaptions(IEnumerable<string> captions, IEnumerable<string>? stopWords = null)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var stop = (stopWords ?? DefaultStopWords).ToList();
        var stopSet = new HashSet<string>(stop.Select(w => w?.ToLowerInvariant() ?? string.Empty), StringComparer.Ordinal);
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string caption in captions)
        {
            ArgumentNullException.ThrowIfNull(caption, nameof(captions));
            words.UnionWith(Tokenize(caption).Where(t => !stopSet.Contains(t)));
        }

        if (words.Count == 0)
        {
            throw new ArgumentException($"The captions hold no words besides the stop words ({string.Join(", ", stopSet.Order(StringComparer.Ordinal))}); a bag-of-words encoder needs at least one.", nameof(captions));
        }

        return new BagOfWordsEncoder(words, stop);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException">When <paramref name="prompts"/> or one of its items is null.</exception>
    /// <exception cref="ArgumentException">When a prompt holds an unknown word or a malformed weight; the message names the word, the prompt and the vocabulary.</exception>
    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        float[] values = new float[prompts.Count * ContextSize];
        for (int i = 0; i < prompts.Count; i++)
        {
            EncodeInto(prompts[i] ?? throw new ArgumentNullException(nameof(prompts), $"Prompt {i} is null; use \"\" for the unconditional prompt."), values.AsSpan(i * ContextSize, ContextSize));
        }

        return torch.tensor(values, new long[] { prompts.Count, ContextSize }, ScalarType.Float32);
    }

    /// <summary>Encodes one prompt into a new array of <see cref="ContextSize"/> values (the row <see cref="Encode"/> would produce).</summary>
    /// <param name="prompt">The prompt.</param>
    /// <returns>The multi-hot (or weighted) vector.</returns>
    /// <exception cref="ArgumentException">When the prompt holds an unknown word or a malformed weight.</exception>
    public float[] EncodeToArray(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        float[] values = new float[ContextSize];
        EncodeInto(prompt, values);
        return values;
    }

    /// <summary>Encodes explicit word weights, e.g. <c>{ hero: 1, food: 0.6 }</c> → <c>[1, 0, 0.6, 0, 0]</c> for the sprites.</summary>
    /// <param name="mixes">One dictionary per image; keys are vocabulary words (case-insensitive), values finite weights. An empty dictionary is the unconditional context.</param>
    /// <returns>float32 tensor [mixes.Count, ContextSize] on the CPU; unnamed words are 0.</returns>
    /// <exception cref="ArgumentException">When a key is not in the vocabulary, appears twice up to case, or a weight is not finite.</exception>
    public Tensor EncodeWeighted(IReadOnlyList<IReadOnlyDictionary<string, float>> mixes)
    {
        ArgumentNullException.ThrowIfNull(mixes);
        float[] values = new float[mixes.Count * ContextSize];
        for (int i = 0; i < mixes.Count; i++)
        {
            IReadOnlyDictionary<string, float> mix = mixes[i]
                ?? throw new ArgumentNullException(nameof(mixes), $"Mix {i} is null; use an empty dictionary for the unconditional context.");
            Span<float> row = values.AsSpan(i * ContextSize, ContextSize);
            var seen = new HashSet<int>();
            foreach ((string word, float weight) in mix)
            {
                string describe = "{" + string.Join(", ", mix.Select(kv => $"{kv.Key}: {kv.Value.ToString(CultureInfo.InvariantCulture)}")) + "}";
                int at = Lookup(word?.ToLowerInvariant() ?? string.Empty, describe, nameof(mixes));
                if (!(float.IsFinite(weight) && Math.Abs(weight) <= MaxWordWeight))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Weight {weight} of '{word}' in mix {describe} must be a finite number within -{MaxWordWeight}..{MaxWordWeight} (the course's mixes use 0..1)."), nameof(mixes));
                }

                if (!seen.Add(at))
                {
                    throw new ArgumentException($"Word '{word}' appears twice (up to case) in mix {describe}; give each word once.", nameof(mixes));
                }

                row[at] = weight;
            }
        }

        return torch.tensor(values, new long[] { mixes.Count, ContextSize }, ScalarType.Float32);
    }

    private void EncodeInto(string prompt, Span<float> row)
    {
        var weighted = new HashSet<int>();
        var plain = new HashSet<int>();
        foreach (string item in prompt.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
        {
            int colon = item.LastIndexOf(':');
            if (colon > 0 && colon < item.Length - 1
                && float.TryParse(item.AsSpan(colon + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out float weight))
            {
                if (Tokenize(item[..colon]) is not [string token])
                {
                    throw new ArgumentException($"'{item}' in prompt '{prompt}' must weight exactly one word, like 'hero:0.6'.", "prompts");
                }

                if (!(float.IsFinite(weight) && Math.Abs(weight) <= MaxWordWeight))
                {
                    throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Weight '{item}' in prompt '{prompt}' must be a finite number within -{MaxWordWeight}..{MaxWordWeight} (the course's mixes use 0..1)."), "prompts");
                }

                int at = Lookup(token, prompt, "prompts");
                if (!weighted.Add(at) || plain.Contains(at))
                {
                    throw new ArgumentException($"Word '{token}' is weighted in prompt '{prompt}' but also appears elsewhere in it; give a weighted word once.", "prompts");
                }

                row[at] = weight;
                continue;
            }

            foreach (string token in Tokenize(item))
            {
                if (StopWords.Contains(token))
                {
                    continue;
                }

                int at = Lookup(token, prompt, "prompts");
                if (weighted.Contains(at))
                {
                    throw new ArgumentException($"Word '{token}' is weighted in prompt '{prompt}' but also appears elsewhere in it; give a weighted word once.", "prompts");
                }

                plain.Add(at);
                row[at] = 1f;
            }
        }
    }

    private int Lookup(string token, string prompt, string paramName) =>
        _index.TryGetValue(token, out int at)
            ? at
            : throw new ArgumentException(
                $"Unknown word '{token}' in prompt '{prompt}'. The vocabulary is: {string.Join(", ", Vocabulary)} "
                + $"(ignored stop words: {string.Join(", ", StopWords.Order(StringComparer.Ordinal))}); rephrase the prompt with these words.",
                paramName);

    /// <summary>Lowercases and splits text into tokens of letters, digits and inner hyphens (<see cref="WordTokenizer"/>).</summary>
    internal static List<string> Tokenize(string text) => WordTokenizer.Tokenize(text);
}
