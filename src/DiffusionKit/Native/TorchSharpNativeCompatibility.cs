using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace DiffusionKit.Native;

/// <summary>
/// Makes TorchSharp 0.107's native library load on Linux systems whose libstdc++ predates GCC 13
/// (Debian 12, Ubuntu 22.04), with no manual step.
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> 0.107 requires the symbol version <c>GLIBCXX_3.4.32</c> for a single symbol
/// (<c>_ZSt21ios_base_library_initv</c>) that no relocation uses. When the system's libstdc++ lacks that version,
/// DiffusionKit marks the requirement weak (<c>VER_FLG_WEAK</c> in its <c>Elf64_Vernaux</c> entry); the loader then
/// accepts the library and it runs unchanged. Where libstdc++ is new enough, nothing is touched.
/// </para>
/// <para>
/// The check runs automatically when the DiffusionKit assembly is first used. Apps that call TorchSharp before any
/// DiffusionKit type should call <see cref="EnsureLoadable"/> first. Turn the fix off with the environment variable
/// <c>DIFFUSIONKIT_NATIVE_FIX=off</c> or the AppContext switch <c>DiffusionKit.DisableNativeFix</c>. Set
/// <c>DIFFUSIONKIT_NATIVE_FIX=copy</c> to leave the app folder untouched and load a patched copy from the user's
/// local application-data folder instead.
/// </para>
/// </remarks>
public static class TorchSharpNativeCompatibility
{
    /// <summary>
    /// The environment variable that controls the fix: <c>off</c>, <c>0</c> or <c>false</c> turn it off; <c>copy</c>
    /// never modifies the app folder and loads a patched copy instead; anything else (or unset) is the default.
    /// </summary>
    public const string DisableEnvironmentVariable = "DIFFUSIONKIT_NATIVE_FIX";

    /// <summary>The AppContext switch that turns the fix off when enabled.</summary>
    public const string DisableSwitch = "DiffusionKit.DisableNativeFix";

    internal const string LibraryFileName = "libLibTorchSharp.so";

    /// <summary>Versions known to be requested only by symbols no relocation uses, so that a weak requirement is safe.</summary>
    private static readonly HashSet<string> SafeToWeaken = new(StringComparer.Ordinal) { "GLIBCXX_3.4.32" };

    private static readonly object Gate = new();
    private static NativeFixOutcome? s_outcome;
    private static Exception? s_failure;
    private static IntPtr s_patchedHandle;
    private static TorchSharpNativeLoadException? s_missingBackend;

    /// <summary>
    /// Checks the TorchSharp native library next to the app and patches it when this system needs it. Idempotent and
    /// thread-safe; call it before the first TorchSharp call when DiffusionKit is not the first to touch TorchSharp.
    /// </summary>
    /// <returns>What was found and done.</returns>
    /// <exception cref="TorchSharpNativeLoadException">When the app has no TorchSharp backend (the message names the packages
    /// to add: TorchSharp-cpu, or DiffusionKit.Cuda with a TorchSharp CUDA bundle), or the library needs a version the
    /// system lacks and no fix is possible.</exception>
    public static NativeFixOutcome EnsureLoadable()
    {
        lock (Gate)
        {
            if (s_failure is not null)
            {
                throw s_failure;
            }

            if (s_outcome is { } done)
            {
                return done;
            }

            try
            {
                s_outcome = Run();
                return s_outcome.Value;
            }
            catch (TorchSharpNativeLoadException ex)
            {
                s_failure = ex;
                throw;
            }
        }
    }

    /// <summary>
    /// Runs the check without throwing; used where an exception cannot surface (module initialisation). When the app has
    /// no backend, TorchSharp's calls into its native library throw DiffusionKit's exception (naming the packages to add)
    /// instead of an unhandled <see cref="DllNotFoundException"/>.
    /// </summary>
    internal static void TryEnsureLoadable()
    {
        try
        {
            EnsureLoadable();
        }
        catch (TorchSharpNativeLoadException)
        {
            // Remembered in s_failure and rethrown by the next EnsureLoadable call.
            if (s_missingBackend is not null)
            {
                try
                {
                    NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, ThrowMissingBackend);
                }
                catch (InvalidOperationException)
                {
                    // Someone else resolves TorchSharp's imports; EnsureLoadable still reports the missing backend.
                }
            }
        }
    }

    private static IntPtr ThrowMissingBackend(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName.Contains("TorchSharp", StringComparison.Ordinal) && s_missingBackend is { } missing ? throw missing : IntPtr.Zero;

    private static bool IsDisabled()
    {
        if (AppContext.TryGetSwitch(DisableSwitch, out bool disabled) && disabled)
        {
            return true;
        }

        string? value = Environment.GetEnvironmentVariable(DisableEnvironmentVariable);
        return value is not null && (value.Equals("off", StringComparison.OrdinalIgnoreCase)
            || value == "0" || value.Equals("false", StringComparison.OrdinalIgnoreCase));
    }

    private static NativeFixOutcome Run()
    {
        if (IsDisabled())
        {
            return NativeFixOutcome.Disabled;
        }

        try
        {
            TorchSharpBackend.ThrowIfMissing();
        }
        catch (TorchSharpNativeLoadException ex)
        {
            s_missingBackend = ex;
            throw;
        }

        if (!OperatingSystem.IsLinux())
        {
            return NativeFixOutcome.NotNeeded;
        }

        string? library = FindLibrary();
        if (library is null)
        {
            return NativeFixOutcome.LibraryNotFound;
        }

        bool copyOnly = string.Equals(Environment.GetEnvironmentVariable(DisableEnvironmentVariable), "copy", StringComparison.OrdinalIgnoreCase);
        return Fix(library, FindSystemLibStdCxx(), allowInPlace: !copyOnly);
    }

    /// <summary>Decides and applies the fix for one library file. Internal for tests.</summary>
    internal static NativeFixOutcome Fix(string library, string? libStdCxx, bool allowInPlace)
    {
        byte[] image = File.ReadAllBytes(library);
        IReadOnlyList<ElfVersionNeeds.Requirement> needs;
        try
        {
            needs = ElfVersionNeeds.Read(image);
        }
        catch (InvalidDataException ex)
        {
            throw new TorchSharpNativeLoadException($"'{library}' is not a readable ELF64 library ({ex.Message}). Restore it by rebuilding the app (dotnet build) or clearing the NuGet cache entry of TorchSharp.", ex);
        }

        var provided = libStdCxx is null ? null : ReadProvidedVersions(libStdCxx);
        var missing = needs
            .Where(n => n.File.StartsWith("libstdc++", StringComparison.Ordinal) && (provided is null || !provided.Contains(n.Version)))
            .ToList();
        if (missing.Count == 0)
        {
            return NativeFixOutcome.NotNeeded;
        }

        var strong = missing.Where(n => !n.Weak).ToList();
        if (strong.Count == 0)
        {
            return NativeFixOutcome.AlreadyPatched;
        }

        var unsafeNeeds = strong.Where(n => !SafeToWeaken.Contains(n.Version)).Select(n => n.Version).ToList();
        if (unsafeNeeds.Count > 0)
        {
            throw new TorchSharpNativeLoadException(
                $"'{library}' requires {string.Join(", ", unsafeNeeds)} from libstdc++, which this system's libstdc++ ('{libStdCxx ?? "not found"}') does not provide, " +
                "and DiffusionKit cannot safely relax that requirement. Install a newer libstdc++ (GCC 13 or later: Debian 13, Ubuntu 24.04) or use a TorchSharp build made for this system.");
        }

        foreach (var need in strong)
        {
            ElfVersionNeeds.MarkWeak(image, need);
        }

        if (allowInPlace && TryReplaceAtomically(library, image))
        {
            return NativeFixOutcome.PatchedInPlace;
        }

        LoadPatchedCopy(library, image);
        return NativeFixOutcome.PatchedCopy;
    }

    private static bool TryReplaceAtomically(string path, byte[] image)
    {
        string temp = path + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp";
        try
        {
            File.WriteAllBytes(temp, image);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temp, File.GetUnixFileMode(path));
            }

            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // The folder is not writable; nothing was created.
            }

            return false;
        }
    }

    private static void LoadPatchedCopy(string library, byte[] image)
    {
        string cacheRoot = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create);
        if (string.IsNullOrEmpty(cacheRoot))
        {
            cacheRoot = Path.GetTempPath();
        }

        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image))[..16];
        string folder = Path.Combine(cacheRoot, "DiffusionKit", "native", hash);
        string copy = Path.Combine(folder, LibraryFileName);
        try
        {
            Directory.CreateDirectory(folder);
            if (!File.Exists(copy))
            {
                string temp = copy + "." + Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".tmp";
                File.WriteAllBytes(temp, image);
                File.Move(temp, copy, overwrite: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new TorchSharpNativeLoadException(
                $"'{library}' needs a patch to load on this system (its libstdc++ lacks GLIBCXX_3.4.32), but neither its folder nor '{folder}' is writable. " +
                "Make one of them writable, build the app on a machine with the same layout so the patched file ships with it, or install libstdc++ from GCC 13 or later.", ex);
        }

        // The patched copy finds its dependencies (libtorch.so, ...) by soname once they are loaded from the original folder.
        string original = Path.GetDirectoryName(library)!;
        foreach (string dependency in new[] { "libc10.so", "libtorch_cpu.so", "libtorch.so" })
        {
            string path = Path.Combine(original, dependency);
            if (File.Exists(path))
            {
                NativeLibrary.TryLoad(path, out _);
            }
        }

        if (!NativeLibrary.TryLoad(copy, out s_patchedHandle))
        {
            throw new TorchSharpNativeLoadException($"The patched copy '{copy}' of '{library}' could not be loaded. Check that libtorch's libraries sit beside the original.");
        }

        NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, ResolveLibTorchSharp);
    }

    private static IntPtr ResolveLibTorchSharp(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
        => libraryName is "LibTorchSharp" or "libLibTorchSharp" or LibraryFileName ? s_patchedHandle : IntPtr.Zero;

    private static string? FindLibrary()
    {
        var roots = new List<string>();
        string? torchSharpDir = Path.GetDirectoryName(typeof(torch).Assembly.Location);
        if (!string.IsNullOrEmpty(torchSharpDir))
        {
            roots.Add(torchSharpDir);
        }

        roots.Add(AppContext.BaseDirectory);
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        foreach (string root in roots)
        {
            foreach (string candidate in new[] { Path.Combine(root, LibraryFileName), Path.Combine(root, "runtimes", rid, "native", LibraryFileName) })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Finds the libstdc++ this process uses (already mapped) or would load.</summary>
    internal static string? FindSystemLibStdCxx()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/maps"))
            {
                int slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && line.Contains("libstdc++.so", StringComparison.Ordinal))
                {
                    return line[slash..].Trim();
                }
            }
        }
        catch (IOException)
        {
            // No procfs: fall back to the usual folders.
        }

        string[] folders =
        [
            .. (Environment.GetEnvironmentVariable("LD_LIBRARY_PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries),
            "/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
            "/lib64", "/usr/lib64", "/lib", "/usr/lib",
        ];
        return folders.Select(f => Path.Combine(f, "libstdc++.so.6")).FirstOrDefault(File.Exists);
    }

    /// <summary>The GLIBCXX/CXXABI version names a libstdc++ defines (read from its string table).</summary>
    internal static HashSet<string> ReadProvidedVersions(string libStdCxx)
    {
        byte[] bytes = File.ReadAllBytes(libStdCxx);
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (string prefix in new[] { "GLIBCXX_", "CXXABI_" })
        {
            byte[] needle = Encoding.ASCII.GetBytes(prefix);
            int start = 0;
            while (true)
            {
                int found = bytes.AsSpan(start).IndexOf(needle);
                if (found < 0)
                {
                    break;
                }

                int begin = start + found;
                int end = begin;
                while (end < bytes.Length && bytes[end] != 0 && end - begin < 32)
                {
                    end++;
                }

                if (begin == 0 || bytes[begin - 1] == 0)
                {
                    result.Add(Encoding.ASCII.GetString(bytes, begin, end - begin));
                }

                start = end;
            }
        }

        return result;
    }
}
