using System.Globalization;
using System.Text;
using DiffusionKit.Models;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// The <c>state_dict</c> names and shapes a configuration implies, computed from the options alone (no tensor is
/// allocated), so a weights header can be checked against the config before the model is built. Tests compare these
/// tables with the real modules' <c>state_dict</c>, so they cannot drift from the architecture.
/// </summary>
internal static class CheckpointWeightLayout
{
    /// <summary>The <see cref="ContextUnet"/> <c>state_dict</c> for <paramref name="options"/> (validated options).</summary>
    public static IReadOnlyList<WeightSpec> ForContextUnet(ContextUnetOptions options)
    {
        long c = options.InChannels, n = options.Features, q = options.ImageSize / 4, ctx = options.ContextSize;
        var list = new List<WeightSpec>();
        ResidualBlock(list, "init_conv", c, n, isResidual: true);
        ResidualBlock(list, "down1.model.0", n, n, isResidual: false);
        ResidualBlock(list, "down1.model.1", n, n, isResidual: false);
        ResidualBlock(list, "down2.model.0", n, 2 * n, isResidual: false);
        ResidualBlock(list, "down2.model.1", 2 * n, 2 * n, isResidual: false);
        Embed(list, "timeembed1", 1, 2 * n);
        Embed(list, "timeembed2", 1, n);
        Embed(list, "contextembed1", ctx, 2 * n);
        Embed(list, "contextembed2", ctx, n);
        Add(list, "up0.0.weight", 2 * n, 2 * n, q, q);
        Add(list, "up0.0.bias", 2 * n);
        Add(list, "up0.1.weight", 2 * n);
        Add(list, "up0.1.bias", 2 * n);
        Up(list, "up1", 4 * n, n);
        Up(list, "up2", 2 * n, n);
        Add(list, "out.0.weight", n, 2 * n, 3, 3);
        Add(list, "out.0.bias", n);
        Add(list, "out.1.weight", n);
        Add(list, "out.1.bias", n);
        Add(list, "out.3.weight", c, n, 3, 3);
        Add(list, "out.3.bias", c);
        return list;
    }

    /// <summary>The <see cref="AttentionUnet"/> <c>state_dict</c> for <paramref name="options"/> (validated options).</summary>
    public static IReadOnlyList<WeightSpec> ForAttentionUnet(AttentionUnetOptions options)
    {
        long c = options.InChannels, f = options.Features, wide = 2 * f, emb = 4 * f, ctx = options.ContextSize;
        var list = new List<WeightSpec>();
        Conv(list, "conv_in", f, c, 3);
        Linear(list, "time_embedding.linear_1", f, emb);
        Linear(list, "time_embedding.linear_2", emb, emb);
        Linear(list, "class_embedding.linear_1", ctx, emb);
        Linear(list, "class_embedding.linear_2", emb, emb);
        Linear(list, "context_tokens", ctx, AttentionUnetOptions.ContextTokens * wide);
        Resnet(list, "down_blocks.0.resnets.0", f, f, emb);
        Conv(list, "down_blocks.0.downsamplers.0.conv", f, f, 3);
        Resnet(list, "down_blocks.1.resnets.0", f, wide, emb);
        SpatialTransformer(list, "down_blocks.1.attentions.0", wide, options.AttendsAtHalf);
        Conv(list, "down_blocks.1.downsamplers.0.conv", wide, wide, 3);
        Resnet(list, "down_blocks.2.resnets.0", wide, wide, emb);
        SpatialTransformer(list, "down_blocks.2.attentions.0", wide, options.AttendsAtQuarter);
        Resnet(list, "mid_block.resnets.0", wide, wide, emb);
        Resnet(list, "mid_block.resnets.1", wide, wide, emb);
        SpatialTransformer(list, "mid_block.attentions.0", wide, attends: true);
        Resnet(list, "up_blocks.0.resnets.0", 2 * wide, wide, emb);
        SpatialTransformer(list, "up_blocks.0.attentions.0", wide, options.AttendsAtQuarter);
        Add(list, "up_blocks.0.upsamplers.0.conv.weight", wide, wide, 2, 2);
        Add(list, "up_blocks.0.upsamplers.0.conv.bias", wide);
        Resnet(list, "up_blocks.1.resnets.0", 2 * wide, wide, emb);
        SpatialTransformer(list, "up_blocks.1.attentions.0", wide, options.AttendsAtHalf);
        Add(list, "up_blocks.1.upsamplers.0.conv.weight", wide, wide, 2, 2);
        Add(list, "up_blocks.1.upsamplers.0.conv.bias", wide);
        Resnet(list, "up_blocks.2.resnets.0", wide + f, f, emb);
        Norm(list, "conv_norm_out", f);
        Conv(list, "conv_out", c, f, 3);
        return list;
    }

    /// <summary>The <see cref="Text.LearnedTextEncoder"/> <c>state_dict</c> for a vocabulary of <paramref name="words"/> words.</summary>
    public static IReadOnlyList<WeightSpec> ForLearnedEncoder(int words, int dimension, int contextSize)
    {
        var list = new List<WeightSpec>();
        Add(list, "token_embedding.weight", words + 2L, dimension);
        Add(list, "projection.0.weight", dimension, dimension);
        Add(list, "projection.0.bias", dimension);
        Add(list, "projection.2.weight", contextSize, dimension);
        Add(list, "projection.2.bias", contextSize);
        Add(list, "null_context", contextSize);
        return list;
    }

    /// <summary>
    /// Checks a weights file's header against the expected tensors before any of its data is read: every name present
    /// once, no other names, equal shapes, a floating-point dtype for floating-point tensors and I64 for integer ones.
    /// </summary>
    /// <param name="path">The weights file, for messages.</param>
    /// <param name="header">Its checked header.</param>
    /// <param name="expected">What the config implies.</param>
    /// <param name="describe">What the config describes (for example "the model described by config.json (model.n_feat 64, ...)").</param>
    /// <exception cref="InvalidDataException">Any mismatch; the message lists the problems (the first ten of each kind).</exception>
    public static void Check(string path, SafeTensorsHeader header, IReadOnlyList<WeightSpec> expected, string describe)
    {
        var found = header.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        var wanted = expected.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        var problems = new StringBuilder();
        var missing = expected.Where(e => !found.ContainsKey(e.Name)).Select(e => e.Name).ToList();
        var unexpected = header.Entries.Where(e => !wanted.Contains(e.Name)).Select(e => e.Name).Order(StringComparer.Ordinal).ToList();
        List(problems, "missing", missing);
        List(problems, "unexpected", unexpected);
        var mismatched = new List<string>();
        foreach (var tensor in expected)
        {
            if (!found.TryGetValue(tensor.Name, out var entry))
            {
                continue;
            }

            if (!entry.Shape.SequenceEqual(tensor.Shape))
            {
                mismatched.Add($"{tensor.Name}: shape {Format(entry.Shape)} where the config implies {Format(tensor.Shape)}");
            }
            else if (tensor.IsInteger ? entry.DTypeName != "I64" : entry.DTypeName is not ("F32" or "F16" or "BF16" or "F64"))
            {
                mismatched.Add($"{tensor.Name}: dtype {entry.DTypeName} where {(tensor.IsInteger ? "I64" : "a floating-point dtype (F32, F16, BF16, F64)")} is required");
            }
        }

        List(problems, "mismatched", mismatched);
        if (problems.Length > 0)
        {
            throw new InvalidDataException($"'{path}' does not fit {describe}; nothing was loaded:{problems}");
        }
    }

    /// <summary>
    /// Fails fast when <paramref name="fileLength"/> (the weights file's size) is too small to hold <paramref name="expected"/>
    /// even at 2 bytes per floating-point element: a small file cannot make the loader build a huge model.
    /// </summary>
    public static void CheckSize(string path, long fileLength, IReadOnlyList<WeightSpec> expected, string describe)
    {
        long minimum = 0;
        try
        {
            foreach (var tensor in expected)
            {
                minimum = checked(minimum + tensor.Elements * (tensor.IsInteger ? 8 : 2));
            }
        }
        catch (OverflowException)
        {
            minimum = long.MaxValue;
        }

        if (fileLength < minimum)
        {
            long parameters = expected.Where(t => !t.IsInteger).Sum(t => t.Elements);
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture,
                $"'{path}' is {fileLength} bytes but {describe} has {parameters} parameters (at least {minimum} bytes even in 16-bit precision): the config's sizes do not match these weights."));
        }
    }

    private static void ResidualBlock(List<WeightSpec> list, string prefix, long inChannels, long outChannels, bool isResidual)
    {
        Conv(list, prefix + ".conv1.0", outChannels, inChannels, 3);
        BatchNorm(list, prefix + ".conv1.1", outChannels);
        Conv(list, prefix + ".conv2.0", outChannels, outChannels, 3);
        BatchNorm(list, prefix + ".conv2.1", outChannels);
        if (isResidual && inChannels != outChannels)
        {
            Conv(list, prefix + ".shortcut", outChannels, inChannels, 1);
        }
    }

    private static void Up(List<WeightSpec> list, string prefix, long inChannels, long outChannels)
    {
        Add(list, prefix + ".model.0.weight", inChannels, outChannels, 2, 2);
        Add(list, prefix + ".model.0.bias", outChannels);
        ResidualBlock(list, prefix + ".model.1", outChannels, outChannels, isResidual: false);
        ResidualBlock(list, prefix + ".model.2", outChannels, outChannels, isResidual: false);
    }

    private static void Embed(List<WeightSpec> list, string prefix, long inputSize, long embeddingSize)
    {
        Add(list, prefix + ".model.0.weight", embeddingSize, inputSize);
        Add(list, prefix + ".model.0.bias", embeddingSize);
        Add(list, prefix + ".model.2.weight", embeddingSize, embeddingSize);
        Add(list, prefix + ".model.2.bias", embeddingSize);
    }

    private static void Resnet(List<WeightSpec> list, string prefix, long inChannels, long outChannels, long embedding)
    {
        Norm(list, prefix + ".norm1", inChannels);
        Conv(list, prefix + ".conv1", outChannels, inChannels, 3);
        Linear(list, prefix + ".time_emb_proj", embedding, outChannels);
        Norm(list, prefix + ".norm2", outChannels);
        Conv(list, prefix + ".conv2", outChannels, outChannels, 3);
        if (inChannels != outChannels)
        {
            Conv(list, prefix + ".conv_shortcut", outChannels, inChannels, 1);
        }
    }

    private static void SpatialTransformer(List<WeightSpec> list, string prefix, long width, bool attends)
    {
        if (!attends)
        {
            return;
        }

        Norm(list, prefix + ".norm", width);
        Linear(list, prefix + ".proj_in", width, width);
        string block = prefix + ".transformer_blocks.0";
        Norm(list, block + ".norm1", width);
        Attention(list, block + ".attn1", width, width);
        Norm(list, block + ".norm2", width);
        Attention(list, block + ".attn2", width, width);
        Norm(list, block + ".norm3", width);
        Linear(list, block + ".ff.0", width, 4 * width);
        Linear(list, block + ".ff.2", 4 * width, width);
        Linear(list, prefix + ".proj_out", width, width);
    }

    private static void Attention(List<WeightSpec> list, string prefix, long width, long keyWidth)
    {
        Add(list, prefix + ".to_q.weight", width, width);
        Add(list, prefix + ".to_k.weight", width, keyWidth);
        Add(list, prefix + ".to_v.weight", width, keyWidth);
        Linear(list, prefix + ".to_out.0", width, width);
    }

    private static void Linear(List<WeightSpec> list, string prefix, long inputs, long outputs)
    {
        Add(list, prefix + ".weight", outputs, inputs);
        Add(list, prefix + ".bias", outputs);
    }

    private static void Norm(List<WeightSpec> list, string prefix, long channels)
    {
        Add(list, prefix + ".weight", channels);
        Add(list, prefix + ".bias", channels);
    }

    private static void Conv(List<WeightSpec> list, string prefix, long outChannels, long inChannels, long kernel)
    {
        Add(list, prefix + ".weight", outChannels, inChannels, kernel, kernel);
        Add(list, prefix + ".bias", outChannels);
    }

    private static void BatchNorm(List<WeightSpec> list, string prefix, long channels)
    {
        Add(list, prefix + ".weight", channels);
        Add(list, prefix + ".bias", channels);
        Add(list, prefix + ".running_mean", channels);
        Add(list, prefix + ".running_var", channels);
        list.Add(new WeightSpec(prefix + ".num_batches_tracked", [], IsInteger: true));
    }

    private static void Add(List<WeightSpec> list, string name, params long[] shape) => list.Add(new WeightSpec(name, shape, IsInteger: false));

    private static void List(StringBuilder problems, string kind, List<string> items)
    {
        if (items.Count == 0)
        {
            return;
        }

        var shown = string.Join(kind == "mismatched" ? "; " : ", ", items.Take(10));
        problems.Append(CultureInfo.InvariantCulture, $"\n  {kind} ({items.Count}): {shown}{(items.Count > 10 ? ", ..." : string.Empty)}");
    }

    private static string Format(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
