using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>Helpers every <see cref="ITextEncoder"/> gets.</summary>
public static class TextEncoderExtensions
{
    /// <summary>
    /// The encoder's unconditional context: what it defines for the empty prompt (zeros for the bag-of-words encoder,
    /// a learned null embedding for the learned encoder), the context classifier-free guidance and context dropout use.
    /// </summary>
    /// <param name="encoder">The encoder.</param>
    /// <param name="count">Rows wanted; each is the empty prompt's context. Default 1.</param>
    /// <returns>A new float32 tensor [count, ContextSize] on the CPU, owned by the caller, with no autograd history.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="encoder"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="count"/> is less than 1.</exception>
    /// <exception cref="InvalidOperationException">When the encoder returns a tensor of the wrong shape.</exception>
    public static Tensor EncodeUnconditional(this ITextEncoder encoder, int count = 1)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var empty = encoder.Encode(new[] { string.Empty });
        if (empty.dim() != 2 || empty.shape[0] != 1 || empty.shape[1] != encoder.ContextSize)
        {
            throw new InvalidOperationException(
                $"{encoder.GetType().Name} returned shape [{string.Join(", ", empty.shape)}] for the empty prompt; expected [1, {encoder.ContextSize}].");
        }

        return empty.to(ScalarType.Float32).detach().expand(count, encoder.ContextSize).contiguous().MoveToOuterDisposeScope();
    }
}
