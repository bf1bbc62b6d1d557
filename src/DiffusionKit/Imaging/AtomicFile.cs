using System.Globalization;

namespace DiffusionKit.Imaging;

/// <summary>Writes a whole file so that readers see either the old file or the complete new one.</summary>
internal static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to a temporary file next to <paramref name="path"/>, then moves it over <paramref name="path"/>.</summary>
    /// <param name="path">The destination file; its folder must exist.</param>
    /// <param name="bytes">The complete file content.</param>
    public static void WriteAllBytes(string path, byte[] bytes)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
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
