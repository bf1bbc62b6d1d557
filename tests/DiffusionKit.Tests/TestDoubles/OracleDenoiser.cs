using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>
/// A sample-prediction "denoiser" that knows the answer: for a one-hot context it returns that row's image of
/// <paramref name="images"/> (float32 [K, C, H, W] in [-1, 1]) whatever the noisy input, so a scheduler with
/// <c>PredictionType.Sample</c> ends exactly on it.
/// </summary>
internal sealed class OracleDenoiser(Tensor images) : IDenoiser
{
    public int Channels => (int)images.shape[1];

    public int ImageSize => (int)images.shape[2];

    public int ContextSize => (int)images.shape[0];

    public Device Device => CPU;

    public Tensor PredictNoise(Tensor sample, Tensor time, Tensor? context) =>
        context!.to(ScalarType.Float32).matmul(images.flatten(1)).reshape(sample.shape);
}
