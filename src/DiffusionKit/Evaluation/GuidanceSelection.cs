using System.Globalization;

namespace DiffusionKit.Evaluation;

/// <summary>
/// Chooses a checkpoint's default classifier-free guidance from <see cref="SampleQuality"/> measurements on a validation
/// split: prompt adherence first, closeness to the real images second.
/// </summary>
/// <remarks>
/// The rule: keep the candidates whose accuracy is within <see cref="AccuracyTolerance"/> of the best candidate's, and
/// of those take the one with the lowest feature distance (ties: the lower guidance). Guidance trades variety for
/// adherence; the feature distance grows both when images miss their caption and when they lose the real photos'
/// variety, so it picks the weakest guidance that still follows the prompts.
/// </remarks>
public static class GuidanceSelection
{
    /// <summary>How far below the best accuracy a candidate may fall and still be chosen: 0.02.</summary>
    public const double AccuracyTolerance = 0.02;

    /// <summary>The guidance weights a folder run measures by default: 0.5, 1 and 2.</summary>
    public static IReadOnlyList<double> DefaultCandidates { get; } = [0.5, 1, 2];

    /// <summary>The chosen measurement (see the remarks).</summary>
    /// <param name="measured">At least one measurement.</param>
    /// <returns>One of <paramref name="measured"/>.</returns>
    /// <exception cref="ArgumentException">When <paramref name="measured"/> is empty or holds a non-finite value.</exception>
    public static SampleQuality Choose(IReadOnlyList<SampleQuality> measured)
    {
        ArgumentNullException.ThrowIfNull(measured);
        if (measured.Count == 0)
        {
            throw new ArgumentException("Give at least one measurement to choose from.", nameof(measured));
        }

        if (measured.FirstOrDefault(m => !(double.IsFinite(m.Accuracy) && double.IsFinite(m.FeatureDistance) && double.IsFinite(m.Guidance))) is { } bad)
        {
            throw new ArgumentException($"The measurement {bad} holds a non-finite value.", nameof(measured));
        }

        double best = measured.Max(m => m.Accuracy);
        return measured
            .Where(m => m.Accuracy >= best - AccuracyTolerance - 1e-12)
            .OrderBy(m => m.FeatureDistance)
            .ThenBy(m => m.Guidance)
            .First();
    }

    /// <summary>One line that states the measurements and the choice, for logs: <c>w 0.5: accuracy 0.943, distance 1.21; w 1: ... → w 1</c>.</summary>
    /// <param name="measured">The measurements.</param>
    /// <param name="chosen">The chosen one.</param>
    /// <returns>The line.</returns>
    public static string Describe(IReadOnlyList<SampleQuality> measured, SampleQuality chosen)
    {
        ArgumentNullException.ThrowIfNull(measured);
        ArgumentNullException.ThrowIfNull(chosen);
        var inv = CultureInfo.InvariantCulture;
        return string.Join("; ", measured.Select(m => string.Create(inv, $"w {m.Guidance:0.###}: accuracy {m.Accuracy:0.000}, feature distance {m.FeatureDistance:0.###}")))
            + string.Create(inv, $" -> w {chosen.Guidance:0.###} (the lowest distance within {AccuracyTolerance} of the best accuracy)");
    }
}
