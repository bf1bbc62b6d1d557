using static TorchSharp.torch;

namespace DiffusionKit.Imaging;

/// <summary>Converts image tensors (what samplers return) to <see cref="RgbImage"/>s.</summary>
public static class ImageTensors
{
    /// <summary>Converts a batch of images in [0, 1], float32 [B, C, H, W] with C = 1 or 3, on any device.</summary>
    /// <param name="images">The batch; not disposed.</param>
    /// <returns>One image per batch entry.</returns>
    /// <exception cref="ArgumentException">When the tensor is not a 4-D float32 batch, or holds NaN or infinity (see <see cref="RgbImage.FromChannelsFirst"/>).</exception>
    public static RgbImage[] ToRgbImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"images must be a float32 [B, C, H, W] tensor but is {images.dtype} [{string.Join(", ", images.shape)}].", nameof(images));
        }

        using var cpu = images.cpu().contiguous();
        int count = (int)cpu.shape[0], channels = (int)cpu.shape[1], height = (int)cpu.shape[2], width = (int)cpu.shape[3];
        float[] values = cpu.data<float>().ToArray();
        int size = channels * height * width;
        var result = new RgbImage[count];
        for (int i = 0; i < count; i++)
        {
            result[i] = RgbImage.FromChannelsFirst(values.AsSpan(i * size, size), channels, height, width);
        }

        return result;
    }
}
