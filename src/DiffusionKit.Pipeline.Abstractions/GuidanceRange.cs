using System.Globalization;

namespace DiffusionKit;

/// <summary>
/// The one range check for a classifier-free guidance weight, and the one conversion between the two conventions.
/// </summary>
/// <remarks>
/// <para>
/// DiffusionKit's weight w is the course's: <c>(1 + w)·cond − w·uncond</c> (the <c>GuidanceScale</c> properties,
/// <c>UseGuidance</c>, <c>--guidance</c>, the HTTP field <c>guidance</c>). Diffusers' <c>guidance_scale</c> s is
/// <c>uncond + s·(cond − uncond)</c>, so s = w + 1; the name <c>guidance_scale</c> means s wherever it appears
/// (checkpoints' <c>sampling.guidance_scale</c>, Extensions.AI's property, the HTTP field <c>guidance_scale</c>).
/// </para>
/// <para>
/// The range check applies wherever a weight enters the library (a request, the builder, hosting options, sampling
/// options, a checkpoint, the CLI): finite and within 0..<see cref="Max"/>. Larger weights overflow the guided
/// prediction to infinity and NaN long before they could mean anything, so they are refused up front with the caller's
/// own field name.
/// </para>
/// </remarks>
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

    /// <summary>
    /// The weight w for diffusers' <c>guidance_scale</c> s: s − 1, and 0 (guidance off) for s ≤ 1, as diffusers runs no
    /// guidance for s ≤ 1 (its <c>do_classifier_free_guidance</c> is s &gt; 1).
    /// </summary>
    /// <param name="guidanceScale">diffusers' s: finite, within 0..<see cref="Max"/> + 1.</param>
    /// <param name="paramName">The parameter an exception names.</param>
    /// <returns>DiffusionKit's weight w.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When s is NaN, infinite, negative or above <see cref="Max"/> + 1.</exception>
    public static double FromDiffusersScale(double guidanceScale, string paramName = "guidance_scale")
    {
        if (!(double.IsFinite(guidanceScale) && guidanceScale is >= 0 and <= Max + 1))
        {
            throw new ArgumentOutOfRangeException(paramName, guidanceScale, string.Create(CultureInfo.InvariantCulture, $"{paramName} is {guidanceScale}; as diffusers' guidance_scale s (uncond + s·(cond − uncond)) it must be a finite number within 0..{Max + 1} (s ≤ 1 turns guidance off; DiffusionKit's weight w is s − 1)."));
        }

        return Math.Max(0, guidanceScale - 1);
    }

    /// <summary>Diffusers' <c>guidance_scale</c> s for the weight w: w + 1.</summary>
    /// <param name="weight">DiffusionKit's weight w, within this range.</param>
    /// <returns>s = w + 1.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When w is outside this range.</exception>
    public static double ToDiffusersScale(double weight)
    {
        ThrowIfOutOfRange(weight, nameof(weight));
        return weight + 1;
    }

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
