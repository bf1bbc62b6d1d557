using System.Globalization;

namespace DiffusionKit;

/// <summary>
/// The one range check for a classifier-free guidance weight, wherever one enters the library (a request, the builder,
/// hosting options, sampling options, a checkpoint, the CLI): finite and within 0..<see cref="Max"/>. Larger weights
/// overflow the guided prediction to infinity and NaN long before they could mean anything, so they are refused up front
/// with the caller's own field name.
/// </summary>
public static class GuidanceRange
{
    /// <summary>The largest weight accepted: 100 (about 1–3 is typical; 0 turns guidance off).</summary>
    public const double Max = 100;

    /// <summary>True when <paramref name="value"/> is finite and within 0..<see cref="Max"/>.</summary>
    /// <param name="value">A guidance weight.</param>
    /// <returns>Whether it is accepted.</returns>
    public static bool Contains(double value) => double.IsFinite(value) && value is >= 0 and <= Max;

    /// <summary>The message for a rejected weight, naming the field as the caller knows it.</summary>
    /// <param name="field">The field or parameter, e.g. <c>GuidanceScale</c>, <c>guidance</c>, <c>sampling.guidance_scale</c>.</param>
    /// <param name="value">The rejected weight.</param>
    /// <returns>One sentence saying what is allowed.</returns>
    public static string Describe(string field, double value) =>
        string.Create(CultureInfo.InvariantCulture, $"{field} is {value}; it must be a finite number within 0..{Max} (0 turns guidance off; about 1-3 is typical).");

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> for <paramref name="paramName"/> when <paramref name="value"/> is not accepted.</summary>
    /// <param name="value">A guidance weight.</param>
    /// <param name="paramName">The parameter the exception names.</param>
    /// <param name="field">How the message names the value (default: <paramref name="paramName"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="value"/> is NaN, infinite, negative or above <see cref="Max"/>.</exception>
    public static void ThrowIfOutOfRange(double value, string paramName, string? field = null)
    {
        if (!Contains(value))
        {
            throw new ArgumentOutOfRangeException(paramName, value, Describe(field ?? paramName, value));
        }
    }
}
