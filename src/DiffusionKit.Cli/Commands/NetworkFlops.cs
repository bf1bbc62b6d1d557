using DiffusionKit.Models;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// Floating-point operations of one <see cref="ContextUnet"/> (or <see cref="AttentionUnet"/>) forward pass per image, counted from its layers
/// (convolutions, transposed convolutions and linear layers; 2 FLOP per multiply-add; norms, activations and pooling,
/// under 1% of the total, are left out). n_feat 64 at 16×16 gives 301 MFLOP, the figure in docs/reference.md.
/// A training step costs about 3 forward passes (forward, and backward for inputs and weights).
/// </summary>
internal static class NetworkFlops
{
    /// <summary>Forward FLOPs per image.</summary>
    public static double Forward(ContextUnetOptions options) => ContextFree(options) + ContextDependent(options);

    /// <summary>
    /// Forward FLOPs per image of an <see cref="AttentionUnet"/>: its convolutions, linear layers and the attention
    /// products (QKᵀ and the weighted sum of V, 2·N²·d multiply-adds per self-attention over N pixels).
    /// </summary>
    public static double Forward(AttentionUnetOptions options)
    {
        double f = options.Features, w = 2 * f, e = 4 * f, c = options.InChannels, k = options.ContextSize;
        double full = (double)options.ImageSize * options.ImageSize, half = full / 4, quarter = full / 16;
        double Resnet(double cin, double cout, double pixels) => (pixels * ((9 * cin * cout) + (9 * cout * cout) + (cin == cout ? 0 : cin * cout))) + (e * cout);
        double Attention(double pixels) => (16 * pixels * w * w) + (2 * pixels * pixels * w) + (2 * 4 * w * w) + (2 * pixels * 4 * w);
        double macs = (full * 9 * c * f) + (f * e) + (2 * e * e) + (k * e) + (k * 4 * w);              // conv_in, time/context MLPs, caption tokens
        macs += Resnet(f, f, full) + (half * 9 * f * f);                                                // level 0 down + stride-2 conv
        macs += Resnet(f, w, half) + (options.AttendsAtHalf ? Attention(half) : 0) + (quarter * 9 * w * w);
        macs += Resnet(w, w, quarter) + (options.AttendsAtQuarter ? Attention(quarter) : 0);
        macs += (2 * Resnet(w, w, quarter)) + Attention(quarter);                                      // middle
        macs += Resnet(2 * w, w, quarter) + (options.AttendsAtQuarter ? Attention(quarter) : 0) + (quarter * 4 * w * w);
        macs += Resnet(2 * w, w, half) + (options.AttendsAtHalf ? Attention(half) : 0) + (half * 4 * w * w);
        macs += Resnet(w + f, f, full) + (full * 9 * f * c);                                            // level 0 up + conv_out
        return 2 * macs;
    }

    /// <summary>
    /// FLOPs per image of a guided prediction (conditional and unconditional) as the sampler runs it: the context-free
    /// down path once, the rest twice (<c>IGuidedDenoiser</c>).
    /// </summary>
    public static double Guided(ContextUnetOptions options) => ContextFree(options) + (2 * ContextDependent(options));

    /// <summary>The part that sees only the image: init_conv, down1, down2, up0, and the output convolution's share that reads init_conv's output (the guided pass runs it once per image).</summary>
    private static double ContextFree(ContextUnetOptions options)
    {
        double n = options.Features, c = options.InChannels;
        double full = (double)options.ImageSize * options.ImageSize, half = full / 4, quarter = full / 16;
        double macs = 0;
        macs += full * ((9 * c * n) + (9 * n * n) + (c * n));                       // init_conv: two 3x3 convs + 1x1 shortcut
        macs += full * 4 * 9 * n * n;                                               // down1: two blocks of two 3x3 convs n->n
        macs += half * 9 * ((n * 2 * n) + (3 * 2 * n * 2 * n));                     // down2: n->2n, then three 2n->2n
        macs += quarter * 2 * n * 2 * n;                                            // up0: ConvTranspose 2n->2n, kernel h/4, from 1x1
        macs += full * 9 * n * n;                                                   // out: the 3x3 conv's n input channels from init_conv
        return 2 * macs;
    }

    /// <summary>The up path, which sees the time and context embeddings, and the embedding MLPs.</summary>
    private static double ContextDependent(ContextUnetOptions options)
    {
        double n = options.Features, c = options.InChannels, k = options.ContextSize;
        double full = (double)options.ImageSize * options.ImageSize, half = full / 4;
        double macs = 0;
        macs += half * 4 * n * n;                                                   // up1: ConvTranspose 4n->n, 2x2 stride 2
        macs += half * 4 * 9 * n * n;                                               // up1: two blocks of two 3x3 convs n->n
        macs += full * 2 * n * n;                                                   // up2: ConvTranspose 2n->n, 2x2 stride 2
        macs += full * 4 * 9 * n * n;                                               // up2: two blocks of two 3x3 convs n->n
        macs += full * ((9 * n * n) + (9 * n * c));                                 // out: the 3x3 conv's n input channels from up2, 3x3 n->c
        macs += (2 * n) + (4 * n * n) + n + (n * n) + (k * 2 * n) + (4 * n * n) + (k * n) + (n * n); // time and context MLPs
        return 2 * macs;
    }
}
