using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// A three-level U-Net with self- and cross-attention (the shape of diffusers' <c>UNet2DConditionModel</c> at a small
/// size): predicts the noise in an image from the image, the normalised time <c>t / T</c> and a context vector
/// (<c>diffusionkit train --model attention-unet</c>; <see cref="ContextUnet"/> is the course's model and the default).
/// </summary>
/// <remarks>
/// <para>
/// Levels at full, half and quarter resolution with <c>F</c>, <c>2F</c> and <c>2F</c> channels (<c>F</c> =
/// <see cref="AttentionUnetOptions.Features"/>); each level has one GroupNorm/SiLU residual block on the way down and
/// one on the way up (which takes the level's skip connection), and a middle level of two residual blocks at quarter
/// resolution. Self-attention over the feature map's pixels and cross-attention to the caption follow the residual
/// blocks of every level whose side is at most 8 pixels and the middle one (heads 32 channels wide, then a GELU
/// feed-forward).
/// </para>
/// <para>
/// Time: a sinusoidal embedding of <c>1000 · t / T</c> (width <c>F</c>, cosines then sines) through a two-layer MLP to
/// <c>4F</c>. Context: a two-layer MLP of the context vector is <em>added</em> to the time embedding (it reaches every
/// residual block), and a linear projection of it makes the 4 caption tokens (width <c>2F</c>) the cross-attention
/// reads. A null context is a zero vector, as for the context U-Net, so classifier-free guidance works the same way.
/// </para>
/// <para>
/// Parameter names equal the PyTorch reference's <c>state_dict</c> keys (<c>python/diffusionkit_torch/attention_unet.py</c>;
/// diffusers-style names such as <c>down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight</c>), so
/// weights trained in PyTorch load directly. Weights are initialised like PyTorch's defaults from the generator passed
/// to the constructor; GroupNorm and LayerNorm get ones and zeros. Convolutions go through
/// <see cref="KernelRouting"/>, so the kernel check's route applies.
/// </para>
/// <para>Thread-safety: see <see cref="IDenoiser"/>; one instance must not be called from several threads at once.</para>
/// </remarks>
public sealed class AttentionUnet : DenoiserModule
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly Conv2d conv_in;
    private readonly UnetEmbedding time_embedding;
    private readonly UnetEmbedding class_embedding;
    private readonly Linear context_tokens;
    private readonly ModuleList<UnetStage> down_blocks;
    private readonly UnetStage mid_block;
    private readonly ModuleList<UnetStage> up_blocks;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
#pragma warning restore IDE1006

    /// <summary>The sinusoidal frequencies <c>exp(-ln(10000) · i / (F / 2))</c>, i = 0 .. F/2 - 1.</summary>
    private readonly float[] _frequencies;

    /// <summary>Creates the network with weights drawn from <paramref name="generator"/>.</summary>
    /// <param name="options">Sizes; null means <see cref="AttentionUnetOptions"/>' defaults.</param>
    /// <param name="generator">
    /// CPU random generator for the initial weights; the same seeded generator state gives identical weights.
    /// Null uses TorchSharp's global generator (not reproducible unless the caller seeds it).
    /// </param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public AttentionUnet(AttentionUnetOptions? options = null, Generator? generator = null)
        : this(options, generator, initializeWeights: true)
    {
    }

    /// <summary>Creates the network with weights drawn from a new generator seeded with <paramref name="seed"/>.</summary>
    /// <param name="options">Sizes; null means the defaults.</param>
    /// <param name="seed">Seed for the initial weights; the same seed gives identical weights.</param>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range.</exception>
    public AttentionUnet(AttentionUnetOptions? options, long seed)
        : this(options, new Generator((ulong)seed))
    {
    }

    private AttentionUnet(AttentionUnetOptions? options, Generator? generator, bool initializeWeights)
        : base(nameof(AttentionUnet))
    {
        Options = options ?? new AttentionUnetOptions();
        Options.Validate();

        long f = Options.Features, wide = 2L * f, embedding = 4L * f;
        conv_in = nn.Conv2d(Options.InChannels, f, kernel_size: 3, stride: 1, padding: 1);
        time_embedding = new UnetEmbedding(f, embedding);
        class_embedding = new UnetEmbedding(Options.ContextSize, embedding);
        context_tokens = nn.Linear(Options.ContextSize, AttentionUnetOptions.ContextTokens * wide);

        UnetSpatialTransformer[] Attention(bool attends) => attends ? [new UnetSpatialTransformer(wide, wide, Options.Heads)] : [];
        down_blocks = nn.ModuleList(
            new UnetStage([new UnetResnetBlock(f, f, embedding)], [], downsample: UnetResample.Down(f)),
            new UnetStage([new UnetResnetBlock(f, wide, embedding)], Attention(Options.AttendsAtHalf), downsample: UnetResample.Down(wide)),
            new UnetStage([new UnetResnetBlock(wide, wide, embedding)], Attention(Options.AttendsAtQuarter)));
        mid_block = new UnetStage(
            [new UnetResnetBlock(wide, wide, embedding), new UnetResnetBlock(wide, wide, embedding)],
            [new UnetSpatialTransformer(wide, wide, Options.Heads)]);
        up_blocks = nn.ModuleList(
            new UnetStage([new UnetResnetBlock(2 * wide, wide, embedding)], Attention(Options.AttendsAtQuarter), upsample: UnetResample.Up(wide)),
            new UnetStage([new UnetResnetBlock(2 * wide, wide, embedding)], Attention(Options.AttendsAtHalf), upsample: UnetResample.Up(wide)),
            new UnetStage([new UnetResnetBlock(wide + f, f, embedding)], []));
        conv_norm_out = nn.GroupNorm(AttentionUnetOptions.NormGroups, f);
        conv_out = nn.Conv2d(f, Options.InChannels, kernel_size: 3, stride: 1, padding: 1);

        int half = Options.Features / 2;
        _frequencies = new float[half];
        for (int i = 0; i < half; i++)
        {
            _frequencies[i] = (float)Math.Exp(-Math.Log(10000.0) * i / half);
        }

        RegisterComponents();
        if (initializeWeights)
        {
            WeightInitializer.Initialize(this, generator);
        }
    }

    /// <summary>Creates the network for a loader that overwrites every weight next (no seeded initialisation).</summary>
    internal static AttentionUnet CreateForLoading(AttentionUnetOptions options) => new(options, generator: null, initializeWeights: false);

    /// <summary>The validated sizes this network was built with.</summary>
    public AttentionUnetOptions Options { get; }

    /// <inheritdoc />
    public override int Channels => Options.InChannels;

    /// <inheritdoc />
    public override int ImageSize => Options.ImageSize;

    /// <inheritdoc />
    public override int ContextSize => Options.ContextSize;

    /// <inheritdoc />
    /// <remarks><see cref="AttentionUnetType.Instance"/>.</remarks>
    public override DenoiserType DenoiserType => AttentionUnetType.Instance;

    /// <inheritdoc />
    /// <remarks><c>{ "type": "AttentionUnet", "in_channels", "n_feat", "n_cfeat", "height" }</c> from <see cref="Options"/>.</remarks>
    public override Checkpoints.CheckpointConfig.ModelConfig DescribeForCheckpoint() => AttentionUnetType.Describe(Options);

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
        long batch = x.shape[0];
        c ??= torch.zeros(batch, Options.ContextSize, dtype: x.dtype, device: x.device);

        var embedding = nn.functional.silu(KeptScalars.Add(time_embedding.call(TimeFeatures(t.reshape(batch), x)), class_embedding.call(c)));
        var context = context_tokens.call(c).view(batch, AttentionUnetOptions.ContextTokens, 2L * Options.Features);

        var h = KernelRouting.Call(conv_in, x);
        var skips = new List<Tensor>(down_blocks.Count);
        foreach (var stage in down_blocks)
        {
            h = stage.Forward(h, embedding, context);
            skips.Add(h);
            h = stage.Resample(h);
        }

        h = mid_block.Forward(h, embedding, context);
        for (int i = 0; i < up_blocks.Count; i++)
        {
            h = up_blocks[i].Forward(torch.cat(new[] { h, skips[skips.Count - 1 - i] }, 1), embedding, context);
            h = up_blocks[i].Resample(h);
        }

        h = KernelRouting.Call(conv_out, nn.functional.silu(Float32Statistics.GroupNorm(conv_norm_out, h)));
        return h.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The sinusoidal features of <c>1000 · t</c>: [B, F], cosines then sines, in <paramref name="like"/>'s dtype and device.
    /// Computed in float32 when the network runs in bfloat16: 1000 · t rounded to bfloat16's 8-bit mantissa would move
    /// the angles by whole radians.
    /// </summary>
    private Tensor TimeFeatures(Tensor t, Tensor like)
    {
        var wide = like.dtype == ScalarType.BFloat16 ? ScalarType.Float32 : like.dtype;
        var frequencies = torch.tensor(_frequencies, dtype: wide, device: like.device);
        var angles = KeptScalars.Mul(t.to_type(wide), 1000.0).unsqueeze(1) * frequencies.unsqueeze(0);
        return torch.cat(new[] { angles.cos(), angles.sin() }, 1).to_type(like.dtype);
    }
}
