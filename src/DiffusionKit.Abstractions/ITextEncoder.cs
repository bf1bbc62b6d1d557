using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>Turns prompts into the context vectors a <see cref="IDenoiser"/> is conditioned on.</summary>
/// <remarks>
/// <para>The empty prompt encodes to the encoder's unconditional context (all zeros for the bag-of-words encoder).</para>
/// <para>Thread-safety: implementations are safe for concurrent <see cref="Encode"/> calls unless they say otherwise.
/// Ownership: the returned tensor is new and owned by the caller.</para>
/// </remarks>
public interface ITextEncoder
{
    /// <summary>Length of every context vector this encoder produces.</summary>
    int ContextSize { get; }

    /// <summary>Encodes a batch of prompts.</summary>
    /// <param name="prompts">One prompt per image; an empty string is the unconditional prompt.</param>
    /// <returns>float32 tensor [prompts.Count, ContextSize] on the CPU.</returns>
    /// <exception cref="ArgumentException">When a prompt cannot be encoded (for example an unknown word), with the reason.</exception>
    Tensor Encode(IReadOnlyList<string> prompts);
}
