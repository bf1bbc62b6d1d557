using DiffusionKit.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Text;

/// <summary>
/// A prompt encoder trained jointly with the U-Net: word tokens → a trainable token embedding → pooling (by default the
/// sum, see <see cref="TokenPooling"/>) → Linear/GELU/Linear projection to <see cref="ContextSize"/> → (by default) a
/// LayerNorm without affine weights; the empty prompt gives a learned null embedding.
/// </summary>
/// <remarks>
/// <para>
/// Tokens: <see cref="WordTokenizer"/> (lowercase words of letters, digits and inner hyphens). Token id
/// <see cref="PadId"/> (0) is <c>&lt;pad&gt;</c>, <see cref="UnknownId"/> (1) is <c>&lt;unk&gt;</c>, and word i of
/// <see cref="Vocabulary"/> has id i + 2. A word not in the vocabulary is encoded as <c>&lt;unk&gt;</c>: never an
/// exception, and every unknown word shares that one embedding. Repeated words count each time in the pooling.
/// </para>
/// <para>
/// A prompt without any token (empty, whitespace or punctuation only) is the unconditional prompt and encodes to
/// <c>null_context</c>, a trainable vector the trainer learns through context dropout — the context classifier-free
/// guidance uses as its unconditional half.
/// </para>
/// <para>
/// Parameter names (checkpoint keys): <c>token_embedding.weight</c> [vocabulary + 2, dimension],
/// <c>projection.0.weight/bias</c>, <c>projection.2.weight/bias</c>, <c>null_context</c> [ContextSize].
/// Initial weights come from the generator given to the constructor, so a seed reproduces them.
/// </para>
/// <para>
/// Thread-safety: <see cref="Encode"/> may be called concurrently while the weights are not being trained;
/// <see cref="EncodeForTraining"/> belongs to the single training thread.
/// </para>
/// </remarks>
public sealed class LearnedTextEncoder : nn.Module, ITrainableTextEncoder
{
    /// <summary>The padding token.</summary>
    public const string PadToken = "<pad>";

    /// <summary>The token every word outside the vocabulary becomes.</summary>
    public const string UnknownToken = "<unk>";

    /// <summary>Id of <see cref="PadToken"/>.</summary>
    public const int PadId = 0;

    /// <summary>Id of <see cref="UnknownToken"/>.</summary>
    public const int UnknownId = 1;

    // Field names are checkpoint keys.
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys.
    private readonly Embedding token_embedding;
    private readonly Sequential projection;
    private readonly Parameter null_context;
#pragma warning restore IDE1006

    private readonly Dictionary<string, int> _ids;

    /// <summary>Creates an encoder with freshly initialised weights.</summary>
    /// <param name="vocabulary">The known words (ids 2, 3, …); each a single lowercase token, no duplicates.</param>
    /// <param name="dimension">Width of the token embedding and of the projection's hidden layer; at least 1.</param>
    /// <param name="contextSize">Length of the context vectors; at least 1; null means <paramref name="dimension"/>.</param>
    /// <param name="generator">CPU generator for the initial weights; null uses TorchSharp's global generator (not reproducible unless seeded).</param>
    /// <param name="pooling">How token embeddings are combined; default <see cref="TokenPooling.SumLayerNorm"/>.</param>
    /// <exception cref="ArgumentNullException">When <paramref name="vocabulary"/> is null.</exception>
    /// <exception cref="ArgumentException">When the vocabulary is empty, holds a duplicate or an entry that is not one lowercase token.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="dimension"/> or <paramref name="contextSize"/> is less than 1, or <paramref name="pooling"/> is not a defined value.</exception>
    public LearnedTextEncoder(IEnumerable<string> vocabulary, int dimension, int? contextSize = null, Generator? generator = null, TokenPooling pooling = TokenPooling.SumLayerNorm)
        : base(nameof(LearnedTextEncoder))
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        if (!Enum.IsDefined(pooling))
        {
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be one of {string.Join(", ", Enum.GetNames<TokenPooling>())}.");
        }

        Pooling = pooling;
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        int context = contextSize ?? dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(context, 1, nameof(contextSize));

        var words = new List<string>();
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in vocabulary)
        {
            if (word is null || WordTokenizer.Tokenize(word) is not [string token] || token != word)
            {
                throw new ArgumentException($"Vocabulary entry '{word}' is not a single lowercase token (letters, digits and inner hyphens); fix or remove it.", nameof(vocabulary));
            }

            if (!_ids.TryAdd(word, words.Count + 2))
            {
                throw new ArgumentException($"Vocabulary entry '{word}' appears twice; each word needs one id.", nameof(vocabulary));
            }

            words.Add(word);
        }

        if (words.Count == 0)
        {
            throw new ArgumentException("The vocabulary is empty; give at least one word (or build it with FromCaptions).", nameof(vocabulary));
        }

        Vocabulary = words;
        Dimension = dimension;
        ContextSize = context;

        token_embedding = nn.Embedding(words.Count + 2, dimension);
        projection = nn.Sequential(nn.Linear(dimension, dimension), nn.GELU(), nn.Linear(dimension, context));
        null_context = new Parameter(zeros(context));
        RegisterComponents();

        WeightInitializer.Initialize(this, generator);
        using (no_grad())
        {
            // PyTorch's nn.Embedding default: N(0, 1). The null context starts like the last layer's bias (±1/√dimension).
            using var embedding = randn(token_embedding.weight!.shape, generator: generator);
            token_embedding.weight!.copy_(embedding);
            double bound = 1.0 / Math.Sqrt(dimension);
            // Explicit Scalars kept alive across the calls (docs/training.md, "A libtorch crash in toFloat").
            using var width = (2 * bound).ToScalar();
            using var offset = bound.ToScalar();
            using var nullInit = rand(context, generator: generator).mul_(width).sub_(offset);
            null_context.copy_(nullInit);
        }
    }

    /// <summary>The known words, in id order (word i has id i + 2); without <see cref="PadToken"/> and <see cref="UnknownToken"/>.</summary>
    public IReadOnlyList<string> Vocabulary { get; }

    /// <summary>Width of the token embedding and the projection's hidden layer.</summary>
    public int Dimension { get; }

    /// <inheritdoc />
    public int ContextSize { get; }

    /// <summary>How token embeddings are combined (saved in checkpoints as <c>text_encoder.pooling</c>).</summary>
    public TokenPooling Pooling { get; }

    /// <summary>
    /// Builds the vocabulary from training captions (every distinct token, in ordinal order) and creates an encoder
    /// with weights drawn from a generator seeded with <paramref name="seed"/>.
    /// </summary>
    /// <param name="captions">The training captions.</param>
    /// <param name="dimension">Width of the token embedding; at least 1.</param>
    /// <param name="contextSize">Length of the context vectors; null means <paramref name="dimension"/>.</param>
    /// <param name="seed">Seed for the initial weights. Default 0.</param>
    /// <param name="pooling">How token embeddings are combined; default <see cref="TokenPooling.SumLayerNorm"/>.</param>
    /// <returns>A new encoder; the caller disposes it.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="captions"/> or one caption is null.</exception>
    /// <exception cref="ArgumentException">When the captions hold no token at all.</exception>
    public static LearnedTextEncoder FromCaptions(IEnumerable<string> captions, int dimension, int? contextSize = null, long seed = 0, TokenPooling pooling = TokenPooling.SumLayerNorm)
    {
        ArgumentNullException.ThrowIfNull(captions);
        var words = new SortedSet<string>(StringComparer.Ordinal);
        foreach (string caption in captions)
        {
            ArgumentNullException.ThrowIfNull(caption, nameof(captions));
            words.UnionWith(WordTokenizer.Tokenize(caption));
        }

        if (words.Count == 0)
        {
            throw new ArgumentException("The captions hold no words; a learned encoder needs at least one.", nameof(captions));
        }

        using var generator = new Generator((ulong)seed);
        return new LearnedTextEncoder(words, dimension, contextSize, generator, pooling);
    }

    /// <summary>The token ids of a prompt: <see cref="UnknownId"/> for words outside <see cref="Vocabulary"/>; empty for the unconditional prompt.</summary>
    /// <param name="prompt">The prompt.</param>
    /// <returns>A new array of ids, one per token.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="prompt"/> is null.</exception>
    public int[] TokenIds(string prompt)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        return WordTokenizer.Tokenize(prompt).Select(t => _ids.TryGetValue(t, out int id) ? id : UnknownId).ToArray();
    }

    /// <inheritdoc />
    /// <remarks>Unknown words become <see cref="UnknownToken"/>; this never throws for a non-null prompt.</remarks>
    /// <exception cref="ArgumentNullException">When <paramref name="prompts"/> or one of its items is null.</exception>
    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        return Forward(prompts).detach().cpu().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentNullException">When <paramref name="captions"/> or one of its items is null.</exception>
    public Tensor EncodeForTraining(IReadOnlyList<string> captions)
    {
        ArgumentNullException.ThrowIfNull(captions);
        using var scope = NewDisposeScope();
        return Forward(captions).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public IEnumerable<Parameter> TrainableParameters() => parameters();

    private Tensor Forward(IReadOnlyList<string> prompts)
    {
        int batch = prompts.Count;
        var ids = new int[batch][];
        for (int i = 0; i < batch; i++)
        {
            ids[i] = TokenIds(prompts[i] ?? throw new ArgumentNullException(nameof(prompts), $"Prompt {i} is null; use \"\" for the unconditional prompt."));
        }

        int length = Math.Max(1, ids.Length == 0 ? 1 : ids.Max(t => t.Length));
        var flat = new long[batch * length];
        var empty = new bool[batch];
        for (int i = 0; i < batch; i++)
        {
            empty[i] = ids[i].Length == 0;
            for (int j = 0; j < ids[i].Length; j++)
            {
                flat[(i * length) + j] = ids[i][j];
            }
        }

        var device = token_embedding.weight!.device;
        var tokens = tensor(flat, new long[] { batch, length }, ScalarType.Int64).to(device);
        var mask = tokens.ne(PadId).unsqueeze(-1).to(ScalarType.Float32);
        var embedded = token_embedding.call(tokens);

        // Masked sum (or mean) over the real tokens; an all-padding row is replaced by the null context below.
        var summed = (embedded * mask).sum(1);
        var pooled = Pooling == TokenPooling.Mean ? summed / mask.sum(1).clamp_min(1) : summed;
        var projected = projection.call(pooled);
        if (Pooling == TokenPooling.SumLayerNorm)
        {
            projected = nn.functional.layer_norm(projected, new long[] { ContextSize });
        }

        var isEmpty = tensor(empty, new long[] { batch, 1 }).to(device);
        return where(isEmpty, null_context.unsqueeze(0).expand(batch, ContextSize), projected);
    }
}
