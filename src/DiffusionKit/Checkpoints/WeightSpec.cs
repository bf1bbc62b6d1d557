namespace DiffusionKit.Checkpoints;

/// <summary>One tensor a weights file must hold: its <c>state_dict</c> name, its shape and whether it is an Int64 buffer.</summary>
/// <param name="Name">The <c>state_dict</c> key.</param>
/// <param name="Shape">The shape ([] for a scalar).</param>
/// <param name="IsInteger">True for Int64 buffers (BatchNorm's <c>num_batches_tracked</c>, stored as I64); false for floating-point tensors (F32, F16, BF16 or F64 in the file).</param>
public sealed record WeightSpec(string Name, long[] Shape, bool IsInteger)
{
    /// <summary>The number of elements.</summary>
    /// <exception cref="OverflowException">When the shape's product overflows a 64-bit count.</exception>
    public long Elements => Shape.Aggregate(1L, (product, dim) => checked(product * dim));
}
