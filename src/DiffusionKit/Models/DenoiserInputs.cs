using System.Globalization;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The input checks of <see cref="IDenoiser.PredictNoise"/> shared by the denoisers in this namespace: shape
/// <c>[B, Channels, ImageSize, ImageSize]</c>, time <c>[B]</c>, context <c>[B, ContextSize]</c> or null, all float32, on
/// the denoiser's device and finite.
/// </summary>
internal static class DenoiserInputs
{
    /// <summary>Throws unless the inputs fit <paramref name="denoiser"/>: shapes, float32, device and finite values.</summary>
    /// <exception cref="ArgumentNullException">A required tensor is null.</exception>
    /// <exception cref="ArgumentException">A tensor does not fit; the message names the parameter and says how to fix it.</exception>
    public static void Check(IDenoiser denoiser, Tensor sample, Tensor time, Tensor? context)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(time);

        var device = denoiser.Device;
        var expected = $"[B, {denoiser.Channels}, {denoiser.ImageSize}, {denoiser.ImageSize}]";
        if (sample.dim() != 4 || sample.shape[1] != denoiser.Channels || sample.shape[2] != denoiser.ImageSize || sample.shape[3] != denoiser.ImageSize)
        {
            var hint = sample.dim() == 4 && sample.shape[2] == sample.shape[3] && sample.shape[1] == denoiser.Channels
                ? $"resize images to ImageSize or build the model with ImageSize = {sample.shape[2]}."
                : sample.dim() == 4 && sample.shape[1] != denoiser.Channels
                    ? $"pass images in channels-first layout with {denoiser.Channels} channels or build the model with InChannels = {sample.shape[1]}."
                    : $"pass a batch of images laid out as {expected} (add a batch dimension with unsqueeze(0) for one image).";
            throw new ArgumentException($"sample must have shape {expected} but has {FormatShape(sample.shape)}; {hint}", nameof(sample));
        }

        var batch = sample.shape[0];
        CheckTensor(sample, nameof(sample), device);

        if (time.dim() != 1 || time.shape[0] != batch)
        {
            throw new ArgumentException($"time must have shape [{batch}] (one t / T per sample) but has {FormatShape(time.shape)}; pass a 1-D tensor with one normalised time per image.", nameof(time));
        }

        CheckTensor(time, nameof(time), device);

        if (context is not null)
        {
            if (context.dim() != 2 || context.shape[0] != batch || context.shape[1] != denoiser.ContextSize)
            {
                throw new ArgumentException($"context must have shape [{batch}, {denoiser.ContextSize}] (batch size of sample by ContextSize) but has {FormatShape(context.shape)}; pass one context vector of length {denoiser.ContextSize} per image, or null for the unconditional case.", nameof(context));
            }

            CheckTensor(context, nameof(context), device);
        }
    }

    private static void CheckTensor(Tensor tensor, string name, Device device)
    {
        if (tensor.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"{name} must be float32 but is {tensor.dtype}; convert it with .to_type(ScalarType.Float32).", name);
        }

        if (tensor.device.type != device.type || tensor.device.index != device.index)
        {
            throw new ArgumentException($"{name} is on {tensor.device} but the model is on {device}; move it with .to(model.Device).", name);
        }

        using var finite = isfinite(tensor).all();
        if (!finite.item<bool>())
        {
            throw new ArgumentException($"{name} contains NaN or infinity; check the data pipeline and the sampler for overflow (a diverged training run also produces this).", name);
        }
    }

    private static string FormatShape(long[] shape) =>
        "[" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + "]";

}
