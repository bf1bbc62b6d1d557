using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>One-hot over a fixed word list, but the empty prompt encodes to a non-zero vector (all <see cref="Unconditional"/>).</summary>
internal sealed class OffsetWordEncoder(params string[] words) : ITextEncoder
{
    public const float Unconditional = 5f;

    public int ContextSize => words.Length;

    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        var data = new float[prompts.Count * words.Length];
        for (int i = 0; i < prompts.Count; i++)
        {
            if (prompts[i].Length == 0)
            {
                Array.Fill(data, Unconditional, i * words.Length, words.Length);
                continue;
            }

            data[(i * words.Length) + Array.IndexOf(words, prompts[i])] = 1;
        }

        return tensor(data, new long[] { prompts.Count, words.Length });
    }
}
