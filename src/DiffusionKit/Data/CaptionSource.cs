namespace DiffusionKit.Data;

/// <summary>Where an <see cref="ImageFolderDataset"/> found an image's caption.</summary>
public enum CaptionSource
{
    /// <summary>A line of <c>metadata.jsonl</c> in the folder's root (the Hugging Face imagefolder convention).</summary>
    MetadataJsonl,

    /// <summary>A <c>.txt</c> file beside the image with the same name (<c>cat.png</c> → <c>cat.txt</c>).</summary>
    TextFile,

    /// <summary>The name of the folder that holds the image (class subfolders: <c>dogs/1.png</c> → "dogs").</summary>
    ClassFolder,
}
