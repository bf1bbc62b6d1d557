using static TorchSharp.torch;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>One-hot over a fixed word list; the empty prompt is all zeros.</summary>
internal sealed class WordEncoder(params string[] words) : ITextEncoder
{
    public int ContextSize => words.Length;

    public Tensor Encode(IReadOnlyList<string> prompts)
    {
        var data = new float[prompts.Count * words.Length];
        for (int i = 0; i < prompts.Count; i++)
        {
            int w = Array.IndexOf(words, prompts[i]);
            if (w >= 0)
            {
                data[(i * words.Length) + w] = 1;
            }
        }

        return tensor(data, new long[] { prompts.Count, words.Length });
    }
}
