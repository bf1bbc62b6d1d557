namespace DiffusionKit.Data;

/// <summary>A file (or <c>metadata.jsonl</c> line) an <see cref="ImageFolderDataset"/> left out, and why.</summary>
/// <param name="Path">The file's path (for a metadata line, the path it names, or <c>metadata.jsonl:LINE</c>).</param>
/// <param name="Reason">What is wrong with it, e.g. "the file is truncated" or "the file is empty (0 bytes)".</param>
public sealed record SkippedImage(string Path, string Reason)
{
    /// <inheritdoc />
    public override string ToString() => $"{Path}: {Reason}";
}
