using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Quality;

/// <summary>
/// The small convolutional network of <see cref="CaptionClassifier"/>: three 3×3 convolutions (width, 2·width, 2·width
/// channels) with ReLU, 2×2 max pooling after the first two, global average pooling, a feature layer
/// (<c>features</c> units, ReLU) and a linear head with one logit per class. The feature layer's activations are the
/// features of <see cref="CaptionClassifier.Features"/>. Convolutions go through <see cref="KernelRouting"/>.
/// </summary>
internal sealed class CaptionClassifierNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Conv2d conv1;
    private readonly Conv2d conv2;
    private readonly Conv2d conv3;
    private readonly Linear feature;
    private readonly Linear head;

    public CaptionClassifierNetwork(int channels, int width, int features, int classes)
        : base(nameof(CaptionClassifierNetwork))
    {
        conv1 = nn.Conv2d(channels, width, 3, padding: 1);
        conv2 = nn.Conv2d(width, 2 * width, 3, padding: 1);
        conv3 = nn.Conv2d(2 * width, 2 * width, 3, padding: 1);
        feature = nn.Linear(2 * width, features);
        head = nn.Linear(features, classes);
        RegisterComponents();
    }

    /// <summary>The feature layer's activations, [N, features].</summary>
    public Tensor Features(Tensor images)
    {
        var h = nn.functional.max_pool2d(nn.functional.relu(KernelRouting.Call(conv1, images)), 2);
        h = nn.functional.max_pool2d(nn.functional.relu(KernelRouting.Call(conv2, h)), 2);
        h = nn.functional.relu(KernelRouting.Call(conv3, h)).mean(new long[] { 2, 3 });
        return nn.functional.relu(feature.call(h));
    }

    /// <summary>The class logits, [N, classes].</summary>
    public override Tensor forward(Tensor images) => head.call(Features(images));
}
