using DiffusionKit.Data;

namespace DiffusionKit.Demo.Shapes;

/// <summary>
/// The built-in "shapes" data set: each image is one solid shape of an exact catalogue colour on black, captioned
/// <c>a {size} {color} {shape}</c>. All images are generated eagerly, deterministically from the seed.
/// </summary>
/// <remarks>
/// <para>Generation (the spec in docs/reference.md), with one <see cref="System.Random(int)"/> seeded by
/// <see cref="ShapesDatasetOptions.Seed"/> (its seeded algorithm is fixed across .NET versions and machines):</para>
/// <list type="number">
/// <item>The allowed combinations are the 48 catalogue combinations (<see cref="ShapesCatalog.AllSpecs"/> order) minus
/// every held-out (colour, shape) pair in both sizes. They are dealt in shuffled rounds: each round is a fresh
/// Fisher–Yates permutation of all allowed combinations, so every combination appears equally often (±1).</item>
/// <item>Per image, in this order: the bounding side uniformly in <see cref="ShapesCatalog.MinSide"/>..<see cref="ShapesCatalog.MaxSide"/>
/// (5–7 or 9–12 px at 16, times ImageSize/16); then the left and top of the box, each uniformly in 0..ImageSize-side,
/// so the shape is fully inside.</item>
/// <item>The shape is drawn with hard edges (no anti-aliasing) in the exact colour; every other pixel is (0, 0, 0).
/// Every shape touches all four sides of its box: see the pixel rules on <see cref="ShapeKind"/> values.</item>
/// </list>
/// <para>Thread-safety: immutable after construction; safe to read from several threads.</para>
/// </remarks>
public sealed class ShapesDataset : IImageCaptionDataset
{
    private readonly byte[] _pixels;
    private readonly ShapeSpec[] _specs;
    private readonly ShapePlacement[] _placements;
    private readonly int _imageBytes;

    /// <summary>Generates the data set.</summary>
    /// <param name="options">Count, image size, seed and held-out pairs; validated first.</param>
    /// <exception cref="ArgumentNullException">When <paramref name="options"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When a setting is out of range (see <see cref="ShapesDatasetOptions.Validate"/>).</exception>
    /// <exception cref="ArgumentException">When the held-out pairs leave nothing to generate.</exception>
    public ShapesDataset(ShapesDatasetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        int size = options.ImageSize;
        _imageBytes = size * size * 3;

        var heldOut = options.HeldOut.ToHashSet();
        ShapeSpec[] allowed = ShapesCatalog.AllSpecs.Where(s => !heldOut.Contains((s.Color, s.Kind))).ToArray();
        AllowedSpecs = allowed;

        var random = new Random(options.Seed);
        _pixels = new byte[checked(options.Count * _imageBytes)];
        _specs = new ShapeSpec[options.Count];
        _placements = new ShapePlacement[options.Count];
        var round = (ShapeSpec[])allowed.Clone();
        for (int i = 0; i < options.Count; i++)
        {
            int inRound = i % round.Length;
            if (inRound == 0)
            {
                Array.Copy(allowed, round, allowed.Length);
                for (int j = round.Length - 1; j > 0; j--)
                {
                    int k = random.Next(j + 1);
                    (round[j], round[k]) = (round[k], round[j]);
                }
            }

            ShapeSpec spec = round[inRound];
            int side = random.Next(ShapesCatalog.MinSide(spec.Size, size), ShapesCatalog.MaxSide(spec.Size, size) + 1);
            int left = random.Next(size - side + 1);
            int top = random.Next(size - side + 1);
            _specs[i] = spec;
            _placements[i] = new ShapePlacement(left, top, side);
            ShapeRaster.Draw(
                _pixels.AsSpan(i * _imageBytes, _imageBytes), size, spec.Kind, ShapesCatalog.GetRgb(spec.Color), left, top, side);
        }
    }

    /// <summary>The (validated) options the data set was generated from.</summary>
    public ShapesDatasetOptions Options { get; }

    /// <summary>The combinations that can appear, in catalogue order (all 48 minus the held-out pairs in both sizes).</summary>
    public IReadOnlyList<ShapeSpec> AllowedSpecs { get; }

    /// <inheritdoc />
    public int Count => _specs.Length;

    /// <inheritdoc />
    public int ImageSize => Options.ImageSize;

    /// <inheritdoc />
    public int Channels => 3;

    /// <summary>All images back to back, HWC RGB, <c>Count·ImageSize·ImageSize·3</c> bytes.</summary>
    public ReadOnlyMemory<byte> Pixels => _pixels;

    /// <inheritdoc />
    public string GetCaption(int index) => GetSpec(index).Caption;

    /// <summary>The combination drawn in image <paramref name="index"/>.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <returns>Size, colour and shape.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is out of range.</exception>
    public ShapeSpec GetSpec(int index)
    {
        CheckIndex(index);
        return _specs[index];
    }

    /// <summary>Where the shape of image <paramref name="index"/> was drawn.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <returns>The shape's bounding box.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is out of range.</exception>
    public ShapePlacement GetPlacement(int index)
    {
        CheckIndex(index);
        return _placements[index];
    }

    /// <inheritdoc />
    public void CopyImage(int index, Span<byte> destination) => PackedImages.Copy(_pixels, _specs.Length, ImageSize, index, destination);

    private void CheckIndex(int index) => PackedImages.CheckIndex(index, _specs.Length);
}
