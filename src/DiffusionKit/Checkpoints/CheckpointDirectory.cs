using System.Globalization;
using System.Text;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// A training output folder that holds several complete checkpoints, <c>step-0000100/</c>, <c>step-0000200/</c>, ...,
/// and a <c>latest</c> file naming the current one. Readers see either the previous checkpoint or the complete new one,
/// whenever the writer is killed.
/// </summary>
/// <remarks>
/// <para>
/// Publishing a checkpoint: (1) every file is written into a hidden <c>.tmp-step-…</c> folder and flushed to disk;
/// (2) that folder is renamed to <c>step-NNNNNNN</c> (one atomic rename: a <c>step-*</c> folder is always complete);
/// (3) <c>latest</c> is replaced atomically (written as a temporary file, flushed, renamed over the old one);
/// (4) checkpoints beyond the <c>keep</c> written last (by the time their files were written, so a new run into a folder
/// that holds an earlier run's higher steps keeps its own newest, not the old ones) are renamed to a hidden name and then
/// deleted, so a half-deleted folder never looks like a checkpoint. A kill at any point leaves hidden leftovers at worst; the next writer removes them
/// (<see cref="CleanLeftovers"/>).
/// </para>
/// <para>
/// Readers (<see cref="Resolve"/>, used by <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>): a folder with its own
/// <c>config.json</c> is a checkpoint; otherwise <c>latest</c> names the checkpoint, and when it is missing or names a
/// folder that is gone, the highest-numbered <c>step-*</c> folder is taken.
/// </para>
/// <para>Not safe for two writers on one folder at the same time.</para>
/// </remarks>
public static class CheckpointDirectory
{
    /// <summary>The file naming the current checkpoint folder (one line, the folder's name).</summary>
    public const string LatestFileName = "latest";

    private const string StepPrefix = "step-";
    private const string HiddenPrefix = ".tmp-";

    /// <summary>The folder name of the checkpoint taken after <paramref name="step"/> optimiser steps: <c>step-0000100</c>.</summary>
    /// <param name="step">Optimiser steps (0 or more).</param>
    /// <returns>The folder name.</returns>
    public static string StepFolderName(int step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        return StepPrefix + step.ToString("D7", CultureInfo.InvariantCulture);
    }

    /// <summary>Writes one checkpoint into <paramref name="root"/> and makes it current, atomically.</summary>
    /// <param name="root">The training output folder; created if missing.</param>
    /// <param name="step">The step the checkpoint was taken at; names the folder.</param>
    /// <param name="write">Writes every file of the checkpoint into the folder it is given (an empty hidden folder).</param>
    /// <param name="keep">How many <c>step-*</c> checkpoints to keep (the newest ones); at least 1.</param>
    /// <returns>The published checkpoint folder.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="keep"/> is below 1.</exception>
    public static string Publish(string root, int step, Action<string> write, int keep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        ArgumentNullException.ThrowIfNull(write);
        if (keep < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, "keep must be at least 1 (the checkpoint just written).");
        }

        Directory.CreateDirectory(root);
        string name = StepFolderName(step);
        string temp = Path.Combine(root, HiddenPrefix + name + "-" + Guid.NewGuid().ToString("N")[..8]);
        string target = Path.Combine(root, name);
        Directory.CreateDirectory(temp);
        try
        {
            write(temp);
            foreach (string file in Directory.EnumerateFiles(temp))
            {
                FlushToDisk(file);
            }

            if (Directory.Exists(target))
            {
                // The same step written again (a resumed run interrupted before its first new step): move the old one
                // out of the way first; readers fall back to the newest step-* folder during this short window.
                string old = Path.Combine(root, HiddenPrefix + "old-" + name + "-" + Guid.NewGuid().ToString("N")[..8]);
                Directory.Move(target, old);
                Directory.Move(temp, target);
                TryDeleteFolder(old);
            }
            else
            {
                Directory.Move(temp, target);
            }
        }
        catch
        {
            TryDeleteFolder(temp);
            throw;
        }

        WriteLatest(root, name);
        Prune(root, keep, name);
        return target;
    }

    /// <summary>Removes hidden leftovers of interrupted writes (<c>.tmp-*</c> folders and files) from <paramref name="root"/>.</summary>
    /// <param name="root">The training output folder; nothing happens when it does not exist.</param>
    /// <returns>How many leftovers were removed.</returns>
    public static int CleanLeftovers(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (!Directory.Exists(root))
        {
            return 0;
        }

        int removed = 0;
        foreach (string folder in Directory.EnumerateDirectories(root, HiddenPrefix + "*"))
        {
            removed += TryDeleteFolder(folder) ? 1 : 0;
        }

        foreach (string file in Directory.EnumerateFiles(root, "." + LatestFileName + ".*.tmp"))
        {
            try
            {
                File.Delete(file);
                removed++;
            }
            catch (IOException)
            {
                // Left for the next start.
            }
        }

        return removed;
    }

    /// <summary>
    /// The checkpoint folder <paramref name="path"/> stands for: itself when it holds <c>config.json</c>, else the folder
    /// its <c>latest</c> file names, else its highest-numbered <c>step-*</c> folder; <paramref name="path"/> itself when it
    /// is none of these (loading it then reports what is missing).
    /// </summary>
    /// <param name="path">A checkpoint folder or a training output folder.</param>
    /// <returns>The checkpoint folder to read.</returns>
    public static string Resolve(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (File.Exists(Path.Combine(path, DiffusionCheckpoint.ConfigFileName)) || !Directory.Exists(path))
        {
            return path;
        }

        string latestFile = Path.Combine(path, LatestFileName);
        if (File.Exists(latestFile))
        {
            string named = ReadLatest(latestFile);
            string candidate = Path.Combine(path, named);
            if (IsStepName(named) && File.Exists(Path.Combine(candidate, DiffusionCheckpoint.ConfigFileName)))
            {
                return candidate;
            }
        }

        return StepFolders(path).LastOrDefault().Path ?? path;
    }

    /// <summary>The published checkpoints of <paramref name="root"/>, oldest step first.</summary>
    /// <param name="root">The training output folder.</param>
    /// <returns>Each checkpoint's step and folder.</returns>
    public static IReadOnlyList<(int Step, string Path)> StepFolders(string root)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(root);
        if (!Directory.Exists(root))
        {
            return Array.Empty<(int, string)>();
        }

        return Directory.EnumerateDirectories(root, StepPrefix + "*")
            .Select(p => (Name: System.IO.Path.GetFileName(p), Path: p))
            .Where(p => IsStepName(p.Name))
            .Select(p => (Step: int.Parse(p.Name.AsSpan(StepPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture), p.Path))
            .OrderBy(p => p.Step)
            .ToList();
    }

    private static bool IsStepName(string name) =>
        name.StartsWith(StepPrefix, StringComparison.Ordinal) && name.Length > StepPrefix.Length && name.Length <= StepPrefix.Length + 9
        && name.AsSpan(StepPrefix.Length).IndexOfAnyExceptInRange('0', '9') < 0;

    /// <summary>The folder name in a <c>latest</c> file: its first 64 bytes at most (a valid name is 12), trimmed.</summary>
    private static string ReadLatest(string path)
    {
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[64];
            int read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            return Encoding.UTF8.GetString(buffer, 0, read).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static void WriteLatest(string root, string name)
    {
        string path = Path.Combine(root, LatestFileName);
        string temp = Path.Combine(root, "." + LatestFileName + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            stream.Write(Encoding.UTF8.GetBytes(name + "\n"));
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static void Prune(string root, int keep, string current)
    {
        // Oldest-written first (then by step): the write time, not the step number, says which checkpoints are newest.
        var folders = StepFolders(root).OrderBy(f => WrittenAt(f.Path)).ThenBy(f => f.Step).ToList();
        foreach (var (_, path) in folders.Take(Math.Max(0, folders.Count - keep)))
        {
            if (System.IO.Path.GetFileName(path) == current)
            {
                continue;
            }

            string hidden = System.IO.Path.Combine(root, HiddenPrefix + "delete-" + System.IO.Path.GetFileName(path) + "-" + Guid.NewGuid().ToString("N")[..8]);
            try
            {
                Directory.Move(path, hidden);
            }
            catch (IOException)
            {
                continue;
            }

            TryDeleteFolder(hidden);
        }
    }

    /// <summary>When a checkpoint folder's files were written: its <c>config.json</c>'s write time, else the folder's.</summary>
    private static DateTime WrittenAt(string folder)
    {
        string config = System.IO.Path.Combine(folder, DiffusionCheckpoint.ConfigFileName);
        return File.Exists(config) ? File.GetLastWriteTimeUtc(config) : Directory.GetLastWriteTimeUtc(folder);
    }

    private static void FlushToDisk(string file)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite, FileShare.Read);
        stream.Flush(flushToDisk: true);
    }

    private static bool TryDeleteFolder(string folder)
    {
        try
        {
            Directory.Delete(folder, recursive: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
