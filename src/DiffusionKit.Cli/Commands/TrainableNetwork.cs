using DiffusionKit.Checkpoints;
using DiffusionKit.Models;

namespace DiffusionKit.Cli.Commands;

/// <summary>The networks <c>train --model</c> trains: the built-in denoiser types, by their command-line names.</summary>
internal enum TrainableNetwork
{
    /// <summary><c>context-unet</c>: the course's context U-Net (<see cref="ContextUnet"/>).</summary>
    ContextUnet,

    /// <summary><c>attention-unet</c>: the three-level U-Net with self- and cross-attention (<see cref="AttentionUnet"/>).</summary>
    AttentionUnet,
}

/// <summary>The command-line names of <see cref="TrainableNetwork"/> and what each one builds.</summary>
internal static class TrainableNetworks
{
    /// <summary>The names, in <see cref="TrainableNetwork"/> order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["context-unet", "attention-unet"];

    /// <summary>The name of <paramref name="network"/>.</summary>
    public static string Format(TrainableNetwork network) => Names[(int)network];

    /// <summary>The network a name stands for, or null.</summary>
    public static TrainableNetwork? Parse(string text) => Names.ToList().IndexOf(text.ToLowerInvariant()) is var i and >= 0 ? (TrainableNetwork)i : null;

    /// <summary>The network a checkpoint's <c>model</c> section holds.</summary>
    /// <exception cref="CliUsageException">When it is not a built-in type (train cannot continue another network).</exception>
    public static TrainableNetwork Of(CheckpointConfig.ModelConfig section, string checkpoint) => section.Type switch
    {
        ContextUnetType.TypeName => TrainableNetwork.ContextUnet,
        AttentionUnetType.TypeName => TrainableNetwork.AttentionUnet,
        _ => throw new CliUsageException($"--resume: the checkpoint '{checkpoint}' holds a {section.Type}; train continues only the built-in networks ({string.Join(", ", Names)})."),
    };

    /// <summary>The <c>model</c> section of <paramref name="network"/> at these sizes (validated).</summary>
    /// <exception cref="CliUsageException">When a size is out of range for the network.</exception>
    public static CheckpointConfig.ModelConfig Describe(TrainableNetwork network, int inChannels, int features, int contextSize, int imageSize)
    {
        try
        {
            if (network == TrainableNetwork.AttentionUnet)
            {
                var attention = new AttentionUnetOptions { InChannels = inChannels, Features = features, ContextSize = contextSize, ImageSize = imageSize };
                attention.Validate();
                return AttentionUnetType.Describe(attention);
            }

            var context = new ContextUnetOptions { InChannels = inChannels, Features = features, ContextSize = contextSize, ImageSize = imageSize };
            context.Validate();
            return ContextUnetType.Describe(context);
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new CliUsageException($"--model {Format(network)}: {ex.Message.Split(" (Parameter", 2)[0]}");
        }
    }

    /// <summary>A new network of <paramref name="section"/>, its weights drawn from <paramref name="seed"/>.</summary>
    public static DenoiserModule Create(CheckpointConfig.ModelConfig section, long seed) => section.Type == AttentionUnetType.TypeName
        ? new AttentionUnet(AttentionUnetType.ReadOptions(section), seed)
        : new ContextUnet(ContextUnetType.ReadOptions(section), seed);

    /// <summary>The width (<c>n_feat</c>), image size and channels of a built-in network's section.</summary>
    public static (int Features, int ImageSize, int InChannels) Sizes(CheckpointConfig.ModelConfig section)
    {
        if (section.Type == AttentionUnetType.TypeName)
        {
            var a = AttentionUnetType.ReadOptions(section);
            return (a.Features, a.ImageSize, a.InChannels);
        }

        var c = ContextUnetType.ReadOptions(section);
        return (c.Features, c.ImageSize, c.InChannels);
    }
}
