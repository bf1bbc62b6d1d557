namespace DiffusionKit.Training;

/// <summary>The outcome of a <see cref="PrecisionProbe"/> measurement: both throughputs and the faster precision.</summary>
/// <param name="Chosen">The faster precision (<see cref="Precision.Float32"/> or <see cref="Precision.BFloat16"/>); float32 unless bfloat16 is faster by more than <see cref="PrecisionProbe.BFloat16Margin"/>.</param>
/// <param name="Float32ImagesPerSecond">Best measured float32 throughput, images per second.</param>
/// <param name="BFloat16ImagesPerSecond">Best measured bfloat16 throughput, images per second.</param>
/// <param name="Workload">What was timed, e.g. "training steps of batch 50" or "forward passes of batch 64".</param>
public sealed record PrecisionMeasurement(Precision Chosen, double Float32ImagesPerSecond, double BFloat16ImagesPerSecond, string Workload)
{
    /// <summary>
    /// The cache file this decision was remembered in (an earlier run's measurement on this machine, reused so the choice
    /// does not flip with timing noise), or null when it was measured now.
    /// </summary>
    public string? RememberedIn { get; init; }

    /// <summary>One line for logs: the choice, both figures, and where a remembered decision came from and how to pin one.</summary>
    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"precision auto: {(Chosen == Precision.BFloat16 ? "bf16" : "fp32")} (fp32 {Float32ImagesPerSecond:F1} images/s, bf16 {BFloat16ImagesPerSecond:F1} images/s, {Workload}{(RememberedIn is null ? string.Empty : $"; remembered in {RememberedIn}")}; pin it with --precision fp32|bf16)");
}
