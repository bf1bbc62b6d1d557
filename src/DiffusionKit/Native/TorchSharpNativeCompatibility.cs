using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using TorchSharp;

namespace DiffusionKit.Native;

/// <summary>
/// Checks, before the first TorchSharp call, that TorchSharp 0.107's native library can load on this system, and says what
/// to do when it cannot. Writes no file unless the app opts in.
/// </summary>
/// <remarks>
/// <para>
/// <c>libLibTorchSharp.so</c> 0.107 requires the symbol version <c>GLIBCXX_3.4.32</c> (GCC 13) for a single symbol
/// (<c>_ZSt21ios_base_library_initv</c>) that no relocation uses; Debian 12 and Ubuntu 22.04 lack it. DiffusionKit's
/// build step (<c>DiffusionKit.targets</c>, in the package's <c>build/</c> and <c>buildTransitive/</c> folders) marks that
/// requirement weak (<c>VER_FLG_WEAK</c>) in the app's output and publish copies, so the loader accepts the library and it
/// runs unchanged; where libstdc++ is new enough the weak requirement binds as before.
/// </para>
/// <para>
/// At run time this class only reads: it runs automatically when the DiffusionKit assembly is first used (apps that call
/// TorchSharp before any DiffusionKit type should call <see cref="EnsureLoadable"/> first). When the app's copy was not
/// patched and the system needs it, <see cref="EnsureLoadable"/> (and TorchSharp's own first load) throws
/// <see cref="TorchSharpNativeLoadException"/> naming the remedies: rebuild or republish the app with the DiffusionKit
/// package, set <c>DIFFUSIONKIT_NATIVE_FIX=copy</c>, or install a newer libstdc++. Set <c>DIFFUSIONKIT_NATIVE_FIX=copy</c>
/// to opt in to a patched copy in the user's local application-data folder (the app folder is never written). Turn the
/// check off with <c>DIFFUSIONKIT_NATIVE_FIX=off</c> or the AppContext switch <c>DiffusionKit.DisableNativeFix</c>.
/// </para>
/// </remarks>
public static class TorchSharpNativeCompatibility
{
    /// <summary>
    /// The environment variable that controls the check: <c>off</c>, <c>0</c> or <c>false</c> turn it off; <c>copy</c>
    /// opts in to loading a patched copy from the user's local application-data folder when the app's own copy needs the
    /// fix; anything else (or unset) is the default, which only checks and writes nothing.
    /// </summary>
    public const string DisableEnvironmentVariable = "DIFFUSIONKIT_NATIVE_FIX";

    /// <summary>The AppContext switch that turns the check off when enabled.</summary>
    public const string DisableSwitch = "DiffusionKit.DisableNativeFix";

    internal const string LibraryFileName = "libLibTorchSharp.so";

    private static readonly object Gate = new();
    private static NativeFixOutcome? s_outcome;
    private static Exception? s_failure;
    private static IntPtr s_patchedHandle;
    private static TorchSharpNativeLoadException? s_loadFailure;
    private static string? s_unloadableLibrary;

    /// <summary>
    /// Checks the TorchSharp native library next to the app (and, with <c>DIFFUSIONKIT_NATIVE_FIX=copy</c>, loads a patched
    /// copy when this system needs one). Idempotent and thread-safe; call it before the first TorchSharp call when
    /// DiffusionKit is not the first to touch TorchSharp.
    /// </summary>
    /// <returns>What was found and done.</returns>
    /// <exception cref="TorchSharpNativeLoadException">When the app has no TorchSharp backend (the message names the packages
    /// to add: TorchSharp-cpu, or DiffusionKit.Cuda with a TorchSharp CUDA bundle), or the library needs a libstdc++
    /// version the system lacks (the message names the remedies: rebuild or republish with the DiffusionKit package,
    /// <c>DIFFUSIONKIT_NATIVE_FIX=copy</c>, or a newer libstdc++).</exception>
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
    /// Runs the check without throwing; used where an exception cannot surface (module initialisation). When TorchSharp
    /// cannot load (no backend, or an unpatched library on an old libstdc++), TorchSharp's calls into its native library
    /// throw DiffusionKit's exception, which says what to do, instead of TorchSharp's own load error.
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
            if (s_loadFailure is not null)
            {
                try
                {
                    NativeLibrary.SetDllImportResolver(typeof(torch).Assembly, ThrowLoadFailure);
                }
                catch (InvalidOperationException)
                {
                    // Someone else resolves TorchSharp's imports; EnsureLoadable still reports the failure.
                }
            }
        }
    }

    private static IntPtr ThrowLoadFailure(string libraryName, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!libraryName.Contains("TorchSharp", StringComparison.Ordinal) || s_loadFailure is not { } failure)
        {
            return IntPtr.Zero;
        }

        // The check reads the libstdc++ this process maps; should the loader think otherwise, let it load.
        if (s_unloadableLibrary is { } library && NativeLibrary.TryLoad(library, out IntPtr handle))
        {
            return handle;
        }

        throw failure;
    }

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
            s_loadFailure = ex;
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

        bool copy = string.Equals(Environment.GetEnvironmentVariable(DisableEnvironmentVariable), "copy", StringComparison.OrdinalIgnoreCase);
        try
        {
            return Check(library, FindSystemLibStdCxx(), loadPatchedCopy: copy);
        }
        catch (TorchSharpNativeLoadException ex)
        {
            s_loadFailure = ex;
            s_unloadableLibrary = library;
            throw;
        }
    }

    /// <summary>
    /// Checks one library file against a libstdc++ and, when <paramref name="loadPatchedCopy"/> (the opt-in copy mode),
    /// loads a patched copy from the user's data folder where one is needed. Never writes <paramref name="library"/> or
    /// its folder. Internal for tests.
    /// </summary>
    internal static NativeFixOutcome Check(string library, string? libStdCxx, bool loadPatchedCopy)
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
        var missing = needs.Where(n => n.IsLibStdCxx && (provided is null || !provided.Contains(n.Version))).ToList();
        if (missing.Count == 0)
        {
            return NativeFixOutcome.NotNeeded;
        }

        var strong = missing.Where(n => !n.Weak).ToList();
        if (strong.Count == 0)
        {
            return NativeFixOutcome.AlreadyPatched;
        }

        string system = libStdCxx ?? "not found";
        var unsafeNeeds = strong.Where(n => !n.SafeToWeaken).Select(n => n.Version).ToList();
        if (unsafeNeeds.Count > 0)
        {
            throw new TorchSharpNativeLoadException(
                $"'{library}' requires {string.Join(", ", unsafeNeeds)} from libstdc++, which this system's libstdc++ ('{system}') does not provide, " +
                "and DiffusionKit cannot safely relax that requirement. Install a newer libstdc++ (GCC 13 or later: Debian 13, Ubuntu 24.04) or use a TorchSharp build made for this system.");
        }

        if (!loadPatchedCopy)
        {
            throw new TorchSharpNativeLoadException(NotPatchedMessage(library, system, string.Join(", ", strong.Select(n => n.Version))));
        }

        ElfVersionNeeds.WeakenSafeRequirements(image);
        LoadPatchedCopy(library, image);
        return NativeFixOutcome.PatchedCopy;
    }

    /// <summary>What an app whose copy of the library was not patched must do. Internal for tests.</summary>
    internal static string NotPatchedMessage(string library, string libStdCxx, string versions) =>
        $"TorchSharp's native library '{library}' requires {versions} from libstdc++, which this system's libstdc++ ('{libStdCxx}') lacks " +
        "(Debian 12, Ubuntu 22.04), so it cannot be loaded. DiffusionKit fixes the app's copy when the app is built or published: " +
        "rebuild or republish the app with the DiffusionKit package referenced, so that its build step (DiffusionKit.targets) runs " +
        "(it is skipped with DiffusionKitNativeFix=false, and a copy of the native files made after the build is not patched). " +
        $"Or set {DisableEnvironmentVariable}=copy to load a patched copy from '{CopyRoot()}' (the app folder stays untouched), " +
        "or install libstdc++ from GCC 13 or later (Debian 13, Ubuntu 24.04). See docs/native-loading.md.";

    /// <summary>The folder copy mode writes its patched libraries under.</summary>
    private static string CopyRoot()
    {
        string root = Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.DoNotVerify);
        return Path.Combine(string.IsNullOrEmpty(root) ? Path.GetTempPath() : root, "DiffusionKit", "native");
    }

    private static void LoadPatchedCopy(string library, byte[] image)
    {
        string hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image))[..16];
        string folder = Path.Combine(CopyRoot(), hash);
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
                $"{DisableEnvironmentVariable}=copy: the patched copy of '{library}' cannot be written to '{folder}'. " +
                "Make that folder writable (it follows XDG_DATA_HOME), rebuild or republish the app with the DiffusionKit package so its build step patches the app's copy, or install libstdc++ from GCC 13 or later.", ex);
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
