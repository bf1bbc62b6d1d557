namespace DiffusionKit.Training;

/// <summary>The arithmetic a <see cref="DiffusionTrainer"/> runs the network's forward and backward passes in.</summary>
public enum Precision
{
    /// <summary>Everything in float32 (the default): the reference numerics.</summary>
    Float32 = 0,

    /// <summary>
    /// Mixed precision: forward and backward in bfloat16 (much faster on CPUs with AVX512-BF16 or AMX and on recent
    /// GPUs), while float32 master weights take the optimiser steps so small updates are not rounded away. bfloat16 has
    /// float32's exponent range, so no loss scaling is needed. The model is handed back in float32.
    /// </summary>
    BFloat16 = 1,
}
