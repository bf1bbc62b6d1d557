using System.Globalization;

namespace DiffusionKit.IO;

/// <summary>
/// Writes a whole file so that readers see either the old file or the complete new one, never a half-written file:
/// how DiffusionKit writes PNGs (<see cref="Imaging.PngEncoder.Save"/>), training sample manifests and the demo
/// package's GIFs. Use it for output that another process watches or serves while it is being replaced.
/// </summary>
/// <remarks>
/// The bytes go to a temporary file next to the destination (<c>name.PID.XXXXXXXX.tmp</c>, in the same folder so the
/// move stays on one file system), which is then moved over the destination, replacing it. On failure the temporary
/// file is removed and the destination is left as it was. Not a durability guarantee: the data is not flushed to the
/// disk before the move.
/// </remarks>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to a temporary file next to <paramref name="path"/>, then moves it over <paramref name="path"/>.</summary>
    /// <param name="path">The destination file; its folder must exist. An existing file is replaced.</param>
    /// <param name="bytes">The complete file content (may be empty).</param>
    /// <exception cref="ArgumentNullException">When <paramref name="path"/> or <paramref name="bytes"/> is null.</exception>
    /// <exception cref="ArgumentException">When <paramref name="path"/> is empty.</exception>
    /// <exception cref="DirectoryNotFoundException">When the destination's folder does not exist.</exception>
    /// <exception cref="IOException">When the file cannot be written or moved (for example a folder of that name exists).</exception>
    /// <exception cref="UnauthorizedAccessException">When the folder or the destination may not be written.</exception>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(bytes);
        string full = Path.GetFullPath(path);
        string temp = full + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "." +
            Guid.NewGuid().ToString("N")[..8] + ".tmp";
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            try
            {
                File.Delete(temp);
            }
            catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
            {
                // Nothing more can be done; the original error is the one worth reporting.
            }

            throw;
        }
    }
}
