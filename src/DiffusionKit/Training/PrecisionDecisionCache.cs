using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionKit.Native;

namespace DiffusionKit.Training;

/// <summary>
/// Remembers <see cref="Precision.Auto"/>'s decisions per machine and workload in the user's cache folder, so the same
/// command on the same machine trains and samples in the same precision every time (a timing that flips between runs
/// would give a different model from the same seed).
/// </summary>
/// <remarks>
/// <para>
/// The file is <c>$DIFFUSIONKIT_CACHE_DIR/precision.json</c>, else <c>$XDG_CACHE_HOME/diffusionkit/precision.json</c>,
/// else <c>~/.cache/diffusionkit/precision.json</c> (on Windows, LocalApplicationData\DiffusionKit). A decision is keyed
/// by the CPU model and its kernel flags, <c>ONEDNN_MAX_CPU_ISA</c>, the thread count and the workload (network shape
/// and batch). <c>DIFFUSIONKIT_CACHE_DIR=off</c> turns the memory off (every run measures); to pin the precision,
/// choose it (<c>--precision fp32|bf16</c>, <c>DiffusionTrainerOptions.Precision</c>, the builder's precision).
/// </para>
/// <para>
/// A damaged or unreadable file is ignored and rewritten, never fatal: it only holds measurements.
/// </para>
/// </remarks>
internal static class PrecisionDecisionCache
{
    /// <summary>The environment variable that moves the cache folder, or turns the cache off with <c>off</c>.</summary>
    internal const string FolderVariable = "DIFFUSIONKIT_CACHE_DIR";

    private static readonly object Gate = new();

    /// <summary>The decision remembered for <paramref name="workload"/> on this machine, else <paramref name="measure"/>'s, remembered.</summary>
    internal static PrecisionMeasurement GetOrMeasure(string workload, Func<PrecisionMeasurement> measure)
    {
        string? file = FilePath();
        if (file is null)
        {
            return measure();
        }

        string key = string.Join(" | ", CpuDescription.Summary, "ONEDNN_MAX_CPU_ISA=" + (Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "unset"), TorchSharp.torch.get_num_threads().ToString(CultureInfo.InvariantCulture) + " threads", workload);
        lock (Gate)
        {
            var entries = Read(file);
            if (entries[key] is JsonObject saved
                && Enum.TryParse<Precision>(saved["chosen"]?.GetValue<string>(), out var chosen)
                && chosen is Precision.Float32 or Precision.BFloat16
                && saved["fp32"]?.GetValue<double>() is double float32
                && saved["bf16"]?.GetValue<double>() is double bfloat16)
            {
                return new PrecisionMeasurement(chosen, float32, bfloat16, saved["workload"]?.GetValue<string>() ?? workload) { RememberedIn = file };
            }

            var measured = measure();
            entries[key] = new JsonObject
            {
                ["chosen"] = measured.Chosen.ToString(),
                ["fp32"] = measured.Float32ImagesPerSecond,
                ["bf16"] = measured.BFloat16ImagesPerSecond,
                ["workload"] = measured.Workload,
                ["measured"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            };
            Write(file, entries);
            return measured;
        }
    }

    /// <summary>The cache file, or null when the cache is off.</summary>
    internal static string? FilePath()
    {
        string? folder = Environment.GetEnvironmentVariable(FolderVariable);
        if (string.Equals(folder, "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(folder))
        {
            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            folder = OperatingSystem.IsWindows()
                ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "DiffusionKit")
                : Path.Combine(string.IsNullOrWhiteSpace(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg, "diffusionkit");
        }

        return Path.Combine(folder, "precision.json");
    }

    private static JsonObject Read(string file)
    {
        try
        {
            return File.Exists(file) && JsonNode.Parse(File.ReadAllText(file)) is JsonObject entries ? entries : new JsonObject();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException)
        {
            return new JsonObject();
        }
    }

    private static void Write(string file, JsonObject entries)
    {
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            string temporary = file + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
            File.WriteAllText(temporary, entries.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            File.Move(temporary, file, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only home or a full disk: the decision is still used for this run, just not remembered.
        }
    }
}
