using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The context U-Net of DeepLearning.AI's "How Diffusion Models Work", with the untrained-shortcut bug fixed:
/// predicts the noise in an image from the image, the normalised time <c>t / T</c> and a context vector.
/// </summary>
/// <remarks>
/// <para>
/// Time is embedded by two MLPs and <em>added</em> on the up path; the context is embedded by two MLPs and
/// <em>multiplies</em> the up path (<c>cemb1 * up1 + temb1</c>, <c>cemb2 * up2 + temb2</c>). A null context is a
/// zero vector, so the context embedding then reduces to the MLP biases.
/// </para>
/// <para>
/// Parameter and buffer names equal the PyTorch course classes' <c>state_dict</c> keys (for example
/// <c>init_conv.conv1.0.weight</c>, <c>init_conv.shortcut.weight</c>, <c>timeembed1.model.0.weight</c>,
/// <c>up0.0.weight</c>, <c>out.0.weight</c>), so weights trained in PyTorch load directly. Renaming a field is a
/// breaking change to checkpoints.
/// </para>
/// <para>
/// Weights are initialised like PyTorch's defaults (uniform in ±1/√fan_in for convolutions and linear layers;
/// ones/zeros for the normalisation layers), drawn from the generator passed to the constructor, so the same seed
/// gives identical weights.
/// </para>
/// <para>Thread-safety: see <see cref="IDenoiser"/>; one instance must not be called from several threads at once.</para>
/// </remarks>
public sealed class ContextUnet : DenoiserModule, IGuidedDenoiser
{
    // Field names are the PyTorch attribute names: they become the state_dict keys.
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly ResidualConvBlock init_conv;
    private readonly UnetDown down1;
    private readonly UnetDown down2;
    private readonly Sequential to_vec;
    private readonly EmbedFC timeembed1;
    private readonly EmbedFC timeembed2;
    private readonly EmbedFC contextembed1;
    private readonly EmbedFC contextembed2;
    private readonly Sequential up0;
    private readonly UnetUp up1;
    private readonly UnetUp up2;
    private readonly Sequential @out;
#pragma warning restore IDE1006

    private readonly long features;

    /// <summary>Creates the network with weights drawn from <paramref name="generator"/>.</summary>
    /// <param name="options">Sizes; null means the course's defaults (<see cref="ContextUnetOptions"/>).</param>
    /// <param name="generator">
    /// CPU random generator for the initial weights; the same seeded generator state gives identical weights.
    /// Null uses TorchSharp's global generator (not reproducible unless the caller seeds it).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ContextUnet(ContextUnetOptions? options = null, Generator? generator = null)
        : this(options, generator, initializeWeights: true)
    {
    }

    /// <summary>Creates the network; without <paramref name="initializeWeights"/> it skips the seeded initialisation (for loaders that overwrite every weight next).</summary>
    private ContextUnet(ContextUnetOptions? options, Generator? generator, bool initializeWeights)
        : base(nameof(ContextUnet))
    {
        Options = options ?? new ContextUnetOptions();
        Options.Validate();

        long c = Options.InChannels;
        long n = Options.Features;
        long q = Options.ImageSize / 4;
        features = n;

        init_conv = new ResidualConvBlock(c, n, isResidual: true);
        down1 = new UnetDown(n, n);
        down2 = new UnetDown(n, 2 * n);
        to_vec = nn.Sequential(nn.AvgPool2d(kernel_size: q), nn.GELU());
        timeembed1 = new EmbedFC(1, 2 * n);
        timeembed2 = new EmbedFC(1, n);
        contextembed1 = new EmbedFC(Options.ContextSize, 2 * n);
        contextembed2 = new EmbedFC(Options.ContextSize, n);
        up0 = nn.Sequential(
            nn.ConvTranspose2d(2 * n, 2 * n, kernel_size: q, stride: q),
            nn.GroupNorm(8, 2 * n),
            nn.ReLU());
        up1 = new UnetUp(4 * n, n);
        up2 = new UnetUp(2 * n, n);
        @out = nn.Sequential(
            nn.Conv2d(2 * n, n, kernel_size: 3, stride: 1, padding: 1),
            nn.GroupNorm(8, n),
            nn.ReLU(),
            nn.Conv2d(n, c, kernel_size: 3, stride: 1, padding: 1));

        RegisterComponents();
        if (initializeWeights)
        {
            WeightInitializer.Initialize(this, generator);
        }
    }

    /// <summary>Creates the network with weights drawn from a new generator seeded with <paramref name="seed"/>.</summary>
    /// <param name="options">Sizes; null means the course's defaults.</param>
    /// <param name="seed">Seed for the initial weights; the same seed gives identical weights.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public ContextUnet(ContextUnetOptions? options, long seed)
        : this(options, CreateGenerator(seed))
    {
    }

    /// <summary>
    /// Creates the network for a loader that copies a full <c>state_dict</c> into it next: the seeded
    /// re-initialisation (and its temporary random tensors) is skipped, and the weights hold whatever the layers'
    /// constructors left until they are overwritten.
    /// </summary>
    internal static ContextUnet CreateForLoading(ContextUnetOptions options) => new(options, generator: null, initializeWeights: false);

    /// <summary>The validated sizes this network was built with.</summary>
    public ContextUnetOptions Options { get; }

    /// <inheritdoc />
    public override int Channels => Options.InChannels;

    /// <inheritdoc />
    public override int ImageSize => Options.ImageSize;

    /// <inheritdoc />
    public override int ContextSize => Options.ContextSize;

    /// <inheritdoc />
    /// <remarks><see cref="ContextUnetType.Instance"/>.</remarks>
    public override DenoiserType DenoiserType => ContextUnetType.Instance;

    /// <inheritdoc />
    /// <remarks><c>{ "type": "ContextUnet", "in_channels", "n_feat", "n_cfeat", "height" }</c> from <see cref="Options"/>.</remarks>
    public override Checkpoints.CheckpointConfig.ModelConfig DescribeForCheckpoint() => ContextUnetType.Describe(Options);

    /// <summary>
    /// Runs the network without input checks (use <see cref="DenoiserModule.PredictNoise"/> for checked calls).
    /// </summary>
    /// <param name="x">Noisy images, [B, InChannels, ImageSize, ImageSize].</param>
    /// <param name="t">Normalised time, any shape with B elements ([B] or [B, 1, 1, 1]).</param>
    /// <param name="c">Context, [B, ContextSize]; null means zeros.</param>
    /// <returns>The predicted noise, same shape as <paramref name="x"/>.</returns>
    public override Tensor forward(Tensor x, Tensor t, Tensor? c)
    {
        EnsureKernelsChecked(x);
        using var scope = torch.NewDisposeScope();
        var down = Down(x);
        return Up(down, t, c ?? ZeroContext(x)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The guided-sampling forward pass (see <see cref="IGuidedDenoiser"/>): the down path and the output convolution's
    /// share that reads the first block once per row, the up path for each row's context and again for each paired row's
    /// second context. Inputs are not checked; callers go through
    /// <see cref="IGuidedDenoiser.PredictNoiseGuided"/>.
    /// </summary>
    internal Tensor ForwardGuided(Tensor x, Tensor t, Tensor? c, Tensor? pairedRows, Tensor? pairedContext)
    {
        EnsureKernelsChecked(x);
        using var scope = torch.NewDisposeScope();

        // Channels-last activations let oneDNN's convolutions and pooling skip the layout reorders around every call.
        x = x.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
        var down = Down(x);
        c ??= ZeroContext(x);
        Tensor Pair(Tensor v) => pairedContext is null ? v : torch.cat(new[] { v, pairedRows is null ? v : v.index_select(0, pairedRows) }, 0);

        // The output convolution sees [up path, first block's output]; the second half of its input channels is the same
        // for both predictions of an image, so that share of the convolution runs once per image and is paired like the
        // down path (the same sum, split in two: no concatenated copy, and half the work for the paired rows). Every row
        // takes this path, paired or not, so an image's arithmetic does not depend on its batch-mates.
        var outConv = (Conv2d)@out[0];
        var padding = new long[] { 1, 1 };
        var stride = new long[] { 1, 1 };
        var skipTerm = KernelRouting.Conv2d(down.Input, outConv.weight!.narrow(1, features, features), null, stride, padding);
        var u3 = UpBlocks(Pair(down.Bottleneck), Pair(down.Down2), Pair(down.Down1), Pair(t), pairedContext is null ? c : torch.cat(new[] { c, pairedContext }, 0));
        var h = KeptScalars.Add(KernelRouting.Conv2d(u3, outConv.weight!.narrow(1, 0, features), outConv.bias, stride, padding), Pair(skipTerm));
        for (int i = 1; i < @out.Count; i++)
        {
            // The rest of the output block: GroupNorm, ReLU and the last convolution.
            h = KernelRouting.Call((nn.Module<Tensor, Tensor>)@out[i], h);
        }

        return h.contiguous().MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    Tensor IGuidedDenoiser.PredictNoiseGuided(Tensor sample, Tensor time, Tensor? context, Tensor? pairedRows, Tensor? pairedContext)
    {
        DenoiserInputs.Check(this, sample, time, context);
        return ForwardGuided(sample, time, context, pairedRows, pairedContext);
    }

    /// <summary>The part of the network that sees only the image: the first block, both down blocks and the up-sampled bottleneck.</summary>
    private DownPath Down(Tensor x)
    {
        var h = init_conv.call(x);
        var d1 = down1.call(h);
        var d2 = down2.call(d1);
        var u1 = KernelRouting.Call(up0, to_vec.call(d2));
        return new DownPath(h, d1, d2, u1);
    }

    /// <summary>The up path: time added and context multiplied into each up block, skip connections from <paramref name="down"/>.</summary>
    private Tensor Up(DownPath down, Tensor t, Tensor c)
        => KernelRouting.Call(@out, torch.cat(new[] { UpBlocks(down.Bottleneck, down.Down2, down.Down1, t, c), down.Input }, 1));

    /// <summary>Both up blocks, with time added and context multiplied in; the output block comes after.</summary>
    private Tensor UpBlocks(Tensor bottleneck, Tensor down2, Tensor down1, Tensor t, Tensor c)
    {
        var cemb1 = contextembed1.call(c).view(-1, 2 * features, 1, 1);
        var temb1 = timeembed1.call(t).view(-1, 2 * features, 1, 1);
        var cemb2 = contextembed2.call(c).view(-1, features, 1, 1);
        var temb2 = timeembed2.call(t).view(-1, features, 1, 1);

        var u2 = up1.call(KeptScalars.Add(cemb1 * bottleneck, temb1), down2);
        return up2.call(KeptScalars.Add(cemb2 * u2, temb2), down1);
    }

    private Tensor ZeroContext(Tensor x) => torch.zeros(x.shape[0], Options.ContextSize, dtype: x.dtype, device: x.device);

    private static Generator CreateGenerator(long seed) => new((ulong)seed);

    /// <summary>Activations of the down path: the first block's output, both down blocks' outputs and the up-sampled bottleneck.</summary>
    private readonly record struct DownPath(Tensor Input, Tensor Down1, Tensor Down2, Tensor Bottleneck);
}
