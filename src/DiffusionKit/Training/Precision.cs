namespace DiffusionKit.Training;

/// <summary>The arithmetic the network's forward (and, in training, backward) passes run in.</summary>
public enum Precision
{
    /// <summary>Everything in float32: the reference numerics.</summary>
    Float32 = 0,

    /// <summary>
    /// Mixed precision: forward and backward in bfloat16 (much faster on CPUs with AVX512-BF16 or AMX and on recent
    /// GPUs), while float32 master weights take the optimiser steps so small updates are not rounded away. bfloat16 has
    /// float32's exponent range, so no loss scaling is needed. The model is handed back in float32.
    /// </summary>
    BFloat16 = 1,

    /// <summary>
    /// Measure, then choose: a few steps of <see cref="Float32"/> and <see cref="BFloat16"/> are timed on this machine
    /// with the actual network and batch size (<see cref="PrecisionProbe"/>), and the faster one is used. bfloat16 is
    /// 1.65× faster than float32 on some CPUs and 0.76× on others, so no fixed choice suits every machine. The
    /// measurement takes a few seconds and leaves the model's weights untouched.
    /// </summary>
    Auto = 2,
}
