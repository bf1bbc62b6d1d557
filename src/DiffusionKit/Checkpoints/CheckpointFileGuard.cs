using System.Runtime.InteropServices;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// Opens checkpoint files only when they are regular files (after following symbolic links) of a bounded size, so a
/// FIFO cannot block a load forever and a link to <c>/dev/zero</c> or a device cannot feed it endless bytes.
/// </summary>
/// <remarks>
/// Hand-written because no public .NET API reports a file's type: <see cref="FileSystemInfo.Attributes"/> calls a FIFO
/// or a character device a normal file, and opening a FIFO for reading blocks until a writer appears. On Unix the type
/// comes from <c>stat</c> through <c>libSystem.Native</c>, the shim every .NET runtime ships and <c>System.IO</c> itself
/// uses (its <c>FileStatus</c> starts with <c>Flags</c> and <c>Mode</c>, with <c>S_IFMT</c> values normalised across
/// Unixes); the open handle is checked again with <c>fstat</c>. Served alternatives do not fit: Mono.Posix is
/// unmaintained and Tmds.LibC covers Linux only.
/// </remarks>
internal static class CheckpointFileGuard
{
    private const int TypeMask = 0xF000;
    private const int RegularFileType = 0x8000;
    private const int DirectoryType = 0x4000;
    private const int FifoType = 0x1000;
    private const int CharacterDeviceType = 0x2000;
    private const int BlockDeviceType = 0x6000;
    private const int SocketType = 0xC000;

    /// <summary>Opens <paramref name="path"/> for reading after checking that it is a regular file of at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="path">The file.</param>
    /// <param name="maxBytes">The largest size accepted.</param>
    /// <param name="role">What the file is, for messages (for example "the checkpoint configuration").</param>
    /// <returns>An open, seekable stream positioned at the start.</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The path is a directory, a FIFO, a device or a socket, or the file is larger than <paramref name="maxBytes"/>.</exception>
    public static FileStream OpenRegular(string path, long maxBytes, string role)
    {
        CheckType(path, role, StatPath(path));
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.None);
        }
        catch (UnauthorizedAccessException ex) when (Directory.Exists(path))
        {
            throw new InvalidDataException($"'{path}' ({role}) is a directory, not a file; a checkpoint folder holds it as a regular file.", ex);
        }

        try
        {
            if (!OperatingSystem.IsWindows())
            {
                CheckType(path, role, FStat(stream.SafeFileHandle));
            }

            if (stream.Length > maxBytes)
            {
                throw new InvalidDataException($"'{path}' ({role}) is {stream.Length} bytes, more than the {maxBytes}-byte limit for this file (see CheckpointLimits); it is not a DiffusionKit checkpoint file.");
            }

            return stream;
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads the whole of <paramref name="path"/> (a regular file of at most <paramref name="maxBytes"/> bytes).</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="InvalidDataException">The file is not a regular file, or is too large.</exception>
    public static byte[] ReadAllBytes(string path, long maxBytes, string role)
    {
        using var stream = OpenRegular(path, maxBytes, role);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static int? StatPath(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            if (Directory.Exists(path))
            {
                return DirectoryType;
            }

            return File.Exists(path) ? RegularFileType : null;
        }

        var status = default(NativeFileStatus);
        return SystemNative.Stat(path, out status) == 0 ? status.Mode : null;
    }

    private static int? FStat(Microsoft.Win32.SafeHandles.SafeFileHandle handle)
    {
        var status = default(NativeFileStatus);
        return SystemNative.FStat(handle, out status) == 0 ? status.Mode : null;
    }

    private static void CheckType(string path, string role, int? mode)
    {
        if (mode is not int value)
        {
            throw new FileNotFoundException($"'{path}' ({role}) is missing (or a link to nothing).", path);
        }

        string? kind = (value & TypeMask) switch
        {
            RegularFileType => null,
            DirectoryType => "a directory",
            FifoType => "a FIFO (named pipe)",
            CharacterDeviceType => "a character device",
            BlockDeviceType => "a block device",
            SocketType => "a socket",
            _ => "not a regular file",
        };
        if (kind is not null)
        {
            throw new InvalidDataException($"'{path}' ({role}) is {kind}, not a regular file; checkpoint files must be regular files (links to regular files are fine).");
        }
    }

    // libSystem.Native's FileStatus begins with int Flags, int Mode; the rest (sizes, times, ids) is left unread. The
    // struct is oversized so later runtime versions that append fields cannot write past it.
    [StructLayout(LayoutKind.Sequential, Size = 512)]
    private struct NativeFileStatus
    {
        public int Flags;
        public int Mode;
    }

    private static class SystemNative
    {
        private const string Library = "libSystem.Native";

        [DllImport(Library, EntryPoint = "SystemNative_Stat", SetLastError = true)]
        public static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, out NativeFileStatus output);

        [DllImport(Library, EntryPoint = "SystemNative_FStat", SetLastError = true)]
        public static extern int FStat(Microsoft.Win32.SafeHandles.SafeFileHandle fd, out NativeFileStatus output);
    }
}
