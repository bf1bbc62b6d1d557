using static TorchSharp.torch;

namespace DiffusionKit.Quality;

/// <summary>
/// The Fréchet distance between two sets of feature vectors, each taken as a Gaussian with its mean and covariance:
/// <c>‖μa − μb‖² + tr(Σa + Σb − 2·(Σa^½ Σb Σa^½)^½)</c>, the formula of FID (Heusel et al. 2017). 0 for identical
/// statistics; it grows with both a shifted mean (samples unlike the data) and a covariance of another shape (samples
/// less or more varied than the data).
/// </summary>
/// <remarks>
/// Hand-written (no served .NET library computes it): the matrix square roots come from symmetric eigendecompositions
/// (<c>torch.linalg.eigh</c>) in float64, with eigenvalues below 0 (rounding) taken as 0, so no complex values arise.
/// Covariances are the unbiased ones (divided by N − 1). Like FID, the value depends on the number of vectors: compare
/// distances measured with the same counts.
/// </remarks>
public static class FrechetDistance
{
    /// <summary>The distance between the rows of <paramref name="a"/> and those of <paramref name="b"/>.</summary>
    /// <param name="a">[N, D] features, N ≥ 2, finite.</param>
    /// <param name="b">[M, D] features, M ≥ 2, finite.</param>
    /// <returns>The distance, at least 0.</returns>
    /// <exception cref="ArgumentException">When a set is not 2-D, has fewer than 2 rows, the widths differ, or a value is not finite.</exception>
    public static double Between(Tensor a, Tensor b)
    {
        Check(a, nameof(a));
        Check(b, nameof(b));
        if (a.shape[1] != b.shape[1])
        {
            throw new ArgumentException($"The feature sets have {a.shape[1]} and {b.shape[1]} columns; they must have the same width.", nameof(b));
        }

        using var scope = NewDisposeScope();
        var (meanA, covA) = Moments(a);
        var (meanB, covB) = Moments(b);
        var rootA = SymmetricSqrt(covA);
        var middle = rootA.matmul(covB).matmul(rootA);
        middle = middle.add(middle.t()).mul(0.5);
        double crossTrace = linalg.eigvalsh(middle).clamp_min(0).sqrt().sum().item<double>();
        double meanTerm = meanA.sub(meanB).square().sum().item<double>();
        double value = meanTerm + covA.trace().item<double>() + covB.trace().item<double>() - (2 * crossTrace);
        return Math.Max(0, value);
    }

    private static void Check(Tensor features, string name)
    {
        ArgumentNullException.ThrowIfNull(features, name);
        if (features.dim() != 2 || features.shape[0] < 2)
        {
            throw new ArgumentException($"Expected features [N, D] with N ≥ 2; got [{string.Join(", ", features.shape)}].", name);
        }

        using var finite = features.isfinite().all();
        if (!finite.item<bool>())
        {
            throw new ArgumentException("The features hold NaN or infinite values.", name);
        }
    }

    private static (Tensor Mean, Tensor Covariance) Moments(Tensor features)
    {
        var x = features.to(ScalarType.Float64);
        var mean = x.mean(new long[] { 0 });
        var centred = x.sub(mean);
        return (mean, centred.t().matmul(centred).div(x.shape[0] - 1));
    }

    private static Tensor SymmetricSqrt(Tensor matrix)
    {
        var (values, vectors) = linalg.eigh(matrix);
        return vectors.mul(values.clamp_min(0).sqrt().unsqueeze(0)).matmul(vectors.t());
    }
}
