namespace DiffusionKit.Cli;

/// <summary>Wraps a data set and replaces its captions (used by the benchmark to pair images with the course's 5 labels).</summary>
internal sealed class RelabelledDataset(IImageCaptionDataset inner, Func<int, string> caption) : IImageCaptionDataset
{
    public int Count => inner.Count;

    public int ImageSize => inner.ImageSize;

    public int Channels => inner.Channels;

    public string GetCaption(int index) => caption(index);

    public void CopyImage(int index, Span<byte> destination) => inner.CopyImage(index, destination);
}
