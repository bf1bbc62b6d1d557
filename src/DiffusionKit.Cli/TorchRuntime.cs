using DiffusionKit.Native;
using TorchSharp;

namespace DiffusionKit.Cli;

/// <summary>
/// Starts libtorch for a command. Commands call it after their options are parsed and their inputs checked (a
/// checkpoint's config.json, for example), so a usage error or a bad file is reported without loading the native
/// library: in about 0.2 s with under 50 MB peak RSS here, against about 0.5 s and 160 MB once libtorch is
/// loaded (docs/benchmarks.md).
/// </summary>
internal static class TorchRuntime
{
    /// <summary>Makes libtorch loadable and sets its CPU threads (<paramref name="threads"/>, or every core when null).</summary>
    /// <param name="threads">The <c>--threads</c> value.</param>
    public static void Start(int? threads)
    {
        TorchSharpNativeCompatibility.EnsureLoadable();

        // TorchSharp 0.107 reports get_num_threads() = cores but runs its OpenMP pool on fewer until set explicitly
        // (measured: a 3x3 conv runs 2.2x faster after set_num_threads(2) on a 2-core machine).
        torch.set_num_threads(threads ?? Environment.ProcessorCount);
    }
}
