using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>The CLI's names for numeric precision: auto (measure both, use the faster), fp32 and bf16.</summary>
internal static class PrecisionNames
{
    /// <summary>The names, as <c>--precision</c> takes them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "fp32", "bf16"];

    /// <summary>The precision a name stands for, or null for any other text.</summary>
    public static Precision? TryParse(string text) => text switch
    {
        "auto" => Precision.Auto,
        "fp32" => Precision.Float32,
        "bf16" => Precision.BFloat16,
        _ => null,
    };

    /// <summary>The name of <paramref name="precision"/> (config.json's <c>training.precision</c> uses the same names).</summary>
    public static string Format(Precision precision) => precision switch
    {
        Precision.BFloat16 => "bf16",
        Precision.Float32 => "fp32",
        _ => "auto",
    };
}
