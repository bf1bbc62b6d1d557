using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// An <see cref="INoiseSource"/> with one generator per image: row i of every draw comes from image i's own
/// generator, so an image's initial noise and every step's fresh noise are the same whether it is sampled alone or in
/// a batch with others (the batched sampler's guarantee).
/// </summary>
/// <remarks>
/// <para>Row i of a draw of shape [B, ...] is exactly what <c>randn([1, ...], generator_i)</c> returns, so image i of a
/// batch gets the noise a batch of one seeded with the same seed gets from <see cref="GeneratorNoiseSource"/>.</para>
/// <para><see cref="KeepRows"/> drops images (for example cancelled requests) so later draws have fewer rows. Owns its
/// generators; dispose it after the loop. Not thread-safe.</para>
/// </remarks>
public sealed class PerImageNoiseSource : INoiseSource, IDisposable
{
    private List<Generator> _generators;
    private bool _disposed;

    /// <summary>Creates one generator per seed.</summary>
    /// <param name="seeds">Image i's seed; at least one.</param>
    /// <exception cref="ArgumentException">When <paramref name="seeds"/> is empty.</exception>
    public PerImageNoiseSource(IReadOnlyList<long> seeds)
    {
        ArgumentNullException.ThrowIfNull(seeds);
        if (seeds.Count == 0)
        {
            throw new ArgumentException("seeds must hold one seed per image (at least one).", nameof(seeds));
        }

        _generators = seeds.Select(s => new Generator(unchecked((ulong)s))).ToList();
    }

    /// <summary>The number of images (rows) the source draws for.</summary>
    public int Count => _generators.Count;

    /// <inheritdoc />
    /// <exception cref="ArgumentException">When the first dimension of <paramref name="shape"/> is not <see cref="Count"/>.</exception>
    public Tensor StandardNormal(long[] shape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length < 1 || shape[0] != _generators.Count)
        {
            throw new ArgumentException($"shape must start with the batch size {_generators.Count} (one row per image) but is [{string.Join(", ", shape)}].", nameof(shape));
        }

        var row = (long[])shape.Clone();
        row[0] = 1;
        using var scope = NewDisposeScope();
        var rows = _generators.Select(g => randn(row, dtype: ScalarType.Float32, device: CPU, generator: g)).ToArray();
        return (rows.Length == 1 ? rows[0] : cat(rows, 0)).MoveToOuterDisposeScope();
    }

    /// <summary>Keeps only the generators of <paramref name="rows"/> (indices into the current rows, ascending) and disposes the others.</summary>
    /// <param name="rows">The rows to keep.</param>
    public void KeepRows(IReadOnlyList<int> rows)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(rows);
        var keep = new HashSet<int>(rows);
        var kept = new List<Generator>(rows.Count);
        for (int i = 0; i < _generators.Count; i++)
        {
            if (keep.Contains(i))
            {
                kept.Add(_generators[i]);
            }
            else
            {
                _generators[i].Dispose();
            }
        }

        _generators = kept;
    }

    /// <summary>Disposes the generators.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        foreach (var g in _generators)
        {
            g.Dispose();
        }
    }
}
