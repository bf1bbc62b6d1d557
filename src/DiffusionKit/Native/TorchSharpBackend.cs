using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionKit.Native;

/// <summary>
/// Finds out whether the app carries a TorchSharp backend (libtorch), before TorchSharp's own loader fails with an
/// unhandled native-load error. Libraries reference only the managed <c>TorchSharp</c> package (TorchSharp's rule); the
/// app must add <c>TorchSharp-cpu</c> or a CUDA bundle, and a newcomer who followed only <c>dotnet add package
/// DiffusionKit</c> gets this class's message, which names those packages.
/// </summary>
/// <remarks>
/// libtorch counts as present when its main library (<c>libtorch_cpu.so</c>, <c>torch_cpu.dll</c> or
/// <c>libtorch_cpu.dylib</c>; every CPU and CUDA bundle has it) sits in a folder the runtime probes for this app (the
/// app folder, its <c>runtimes/&lt;rid&gt;/native</c>, the runtime's native search folders, TorchSharp's folder) or
/// loads from the system's library path. <c>DIFFUSIONKIT_NATIVE_FIX=off</c> skips the check with the rest of the
/// native-load support.
/// </remarks>
internal static class TorchSharpBackend
{
    /// <summary>The message of the exception thrown when no backend is present.</summary>
    internal static string MissingMessage(string library) =>
        $"DiffusionKit found no TorchSharp backend (libtorch) in this app: '{library}' is neither in the app's folders nor on the system library path. "
        + "Libraries reference only TorchSharp; the app picks the backend. Add one package to the app project: "
        + "for the CPU 'dotnet add package TorchSharp-cpu --version 0.107.0'; for NVIDIA GPUs 'dotnet add package DiffusionKit.Cuda' and "
        + "'dotnet add package TorchSharp-cuda-linux --version 0.107.0' (or TorchSharp-cuda-windows). "
        + $"If libtorch is loaded another way, set {TorchSharpNativeCompatibility.DisableEnvironmentVariable}=off to skip this check.";

    /// <summary>The file name of libtorch's main library on this OS.</summary>
    internal static string LibraryFileName =>
        OperatingSystem.IsWindows() ? "torch_cpu.dll" : OperatingSystem.IsMacOS() ? "libtorch_cpu.dylib" : "libtorch_cpu.so";

    /// <summary>Throws <see cref="TorchSharpNativeLoadException"/> with <see cref="MissingMessage"/> when no backend is present.</summary>
    internal static void ThrowIfMissing()
    {
        if (!IsPresent(ProbeFolders(), LibraryFileName))
        {
            throw new TorchSharpNativeLoadException(MissingMessage(LibraryFileName));
        }
    }

    /// <summary>Whether <paramref name="library"/> is in one of <paramref name="folders"/> or loads by name from the system path. Internal for tests.</summary>
    internal static bool IsPresent(IEnumerable<string> folders, string library)
    {
        if (folders.Any(folder => File.Exists(Path.Combine(folder, library))))
        {
            return true;
        }

        // A system-wide libtorch (LD_LIBRARY_PATH, PATH, DYLD_LIBRARY_PATH): loading it now costs nothing, TorchSharp would load it next.
        return NativeLibrary.TryLoad(library, out _);
    }

    /// <summary>The folders the runtime searches for this app's native libraries.</summary>
    private static List<string> ProbeFolders()
    {
        var roots = new List<string> { AppContext.BaseDirectory };
        string? torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchSharpDir))
        {
            roots.Add(torchSharpDir);
        }

        if (AppContext.GetData("NATIVE_DLL_SEARCH_DIRECTORIES") is string searchDirectories)
        {
            roots.AddRange(searchDirectories.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries));
        }

        string rid = RuntimeInformation.RuntimeIdentifier;
        string os = OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";
        string portable = $"{os}-{RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant()}";
        var folders = new List<string>();
        foreach (string root in roots.Distinct(StringComparer.Ordinal))
        {
            folders.Add(root);
            folders.Add(Path.Combine(root, "runtimes", portable, "native"));
            folders.Add(Path.Combine(root, "runtimes", rid, "native"));
        }

        return folders;
    }
}
