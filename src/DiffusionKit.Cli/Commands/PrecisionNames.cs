using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>The CLI's names for numeric precision: auto (default: measure both, use the faster), fp32 and bf16.</summary>
internal static class PrecisionNames
{
    public static Precision Parse(string? text) => text switch
    {
        null or "auto" => Precision.Auto,
        "fp32" => Precision.Float32,
        "bf16" => Precision.BFloat16,
        _ => throw new CliUsageException($"--precision must be auto, fp32 or bf16, not '{text}'."),
    };
}
