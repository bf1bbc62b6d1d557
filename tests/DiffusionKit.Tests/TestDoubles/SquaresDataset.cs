namespace DiffusionKit.Tests.TestDoubles;

/// <summary>Deterministic toy data: a red or blue filled square on black, captioned "red" or "blue".</summary>
internal sealed class SquaresDataset(int count, int imageSize = 8) : IImageCaptionDataset
{
    public int Count => count;

    public int ImageSize => imageSize;

    public int Channels => 3;

    public string GetCaption(int index) => index % 2 == 0 ? "red" : "blue";

    public void CopyImage(int index, Span<byte> destination)
    {
        destination[..(imageSize * imageSize * 3)].Clear();
        int offset = index % (imageSize / 2);
        for (int y = offset; y < offset + (imageSize / 2); y++)
        {
            for (int x = offset; x < offset + (imageSize / 2); x++)
            {
                destination[((y * imageSize) + x) * 3 + (index % 2 == 0 ? 0 : 2)] = 255;
            }
        }
    }
}
