namespace DiffusionKit.Native;

/// <summary>
/// How DiffusionKit runs the network's convolutions on the CPU. Every route computes the same sums (the results agree
/// to float rounding); they differ only in which native kernels libtorch picks, because some CPU kernels are wrong on
/// some processors (docs/training.md, "Faulty CPU kernels").
/// </summary>
/// <remarks>
/// The routes are ordered from fastest to safest; KernelCheck picks the first one whose results match a
/// float64 reference. Pin one with the environment variable <c>DIFFUSIONKIT_KERNEL_ROUTE</c> (<c>native</c>,
/// <c>padded</c> or <c>reference</c>), set before the first network runs.
/// </remarks>
public enum KernelRoute
{
    /// <summary>libtorch's own choice (oneDNN on x86 CPUs), channel counts as the network declares them.</summary>
    Native = 0,

    /// <summary>
    /// Every convolution's input and output channels are zero-padded to a multiple of
    /// <see cref="KernelRouting.ChannelBlock"/> and the result is narrowed back: the same sums (the extra terms are
    /// exact zeros), run by oneDNN's full-block kernels instead of its partial-block ones. The weights and checkpoints
    /// keep the declared shapes.
    /// </summary>
    PaddedChannels = 1,

    /// <summary>
    /// oneDNN is switched off for the whole process and libtorch's reference convolutions (im2col and GEMM) run instead:
    /// correct where oneDNN is not, and several times slower.
    /// </summary>
    ReferenceKernels = 2,
}
