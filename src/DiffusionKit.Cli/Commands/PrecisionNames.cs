using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>The CLI's names for numeric precision: fp32 (default) and bf16.</summary>
internal static class PrecisionNames
{
    public static Precision Parse(string? text) => text switch
    {
        null or "fp32" => Precision.Float32,
        "bf16" => Precision.BFloat16,
        _ => throw new CliUsageException($"--precision must be fp32 or bf16, not '{text}'."),
    };
}
