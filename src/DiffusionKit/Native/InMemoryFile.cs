using System.Runtime.InteropServices;

namespace DiffusionKit.Native;

/// <summary>
/// An anonymous file that lives only in memory (Linux <c>memfd_create</c>), reachable by the loader as
/// <c>/proc/self/fd/N</c>: the patched TorchSharp library is loaded from it, so the fix writes nothing to any disk.
/// Hand-written: .NET has no API for memfd_create, and this is one system call.
/// </summary>
internal static class InMemoryFile
{
    private const uint MfdCloexec = 1;

    /// <summary>Creates the file with <paramref name="content"/> and returns its path for <c>dlopen</c>; it stays open for the process's life.</summary>
    /// <param name="name">A name for diagnostics (shown in /proc/self/maps as <c>memfd:name</c>).</param>
    /// <param name="content">The bytes.</param>
    /// <param name="library">The original library, named in errors.</param>
    /// <exception cref="TorchSharpNativeLoadException">When the kernel refuses (no memfd_create, a seccomp filter, no memory), with the opt-in alternatives.</exception>
    public static string Create(string name, byte[] content, string library)
    {
        int fd;
        try
        {
            fd = memfd_create(name, MfdCloexec);
        }
        catch (EntryPointNotFoundException ex)
        {
            throw Refused(library, "this C library has no memfd_create", ex);
        }

        if (fd < 0)
        {
            throw Refused(library, $"memfd_create failed with errno {Marshal.GetLastPInvokeError()}", null);
        }

        // The descriptor stays open (and the memory alive) for the process: the loaded library maps it.
        using var stream = new FileStream(new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: false), FileAccess.Write);
        stream.Write(content);
        stream.Flush();
        return $"/proc/self/fd/{fd.ToString(System.Globalization.CultureInfo.InvariantCulture)}";
    }

    private static TorchSharpNativeLoadException Refused(string library, string why, Exception? inner)
    {
        string message = $"'{library}' needs a patch to load on this system (its libstdc++ lacks GLIBCXX_3.4.32), and DiffusionKit loads the patched library from memory, but {why}. " +
        $"Opt in to a file instead: {TorchSharpNativeCompatibility.DisableEnvironmentVariable}=copy (a patched copy in the user's data folder) or {TorchSharpNativeCompatibility.DisableEnvironmentVariable}=in-place (patch the app folder's file once, e.g. while building a container image); or install libstdc++ from GCC 13 or later.";
        return inner is null ? new TorchSharpNativeLoadException(message) : new TorchSharpNativeLoadException(message, inner);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int memfd_create([MarshalAs(UnmanagedType.LPUTF8Str)] string name, uint flags);
}
