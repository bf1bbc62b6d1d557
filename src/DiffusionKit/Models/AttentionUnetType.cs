using DiffusionKit.Checkpoints;

namespace DiffusionKit.Models;

/// <summary>
/// The built-in <see cref="DenoiserType"/> of <see cref="AttentionUnet"/>: <c>model.type</c> <c>AttentionUnet</c>, with
/// the context U-Net's fields <c>in_channels</c>, <c>n_feat</c>, <c>n_cfeat</c> and <c>height</c> (all required
/// integers, bounded by <see cref="CheckpointLimits"/>). Every checkpoint loader knows it without registration.
/// </summary>
public sealed class AttentionUnetType : DenoiserType
{
    /// <summary>The <c>model.type</c> value: <c>AttentionUnet</c>.</summary>
    public const string TypeName = "AttentionUnet";

    private AttentionUnetType()
        : base(TypeName)
    {
    }

    /// <summary>The one instance.</summary>
    public static AttentionUnetType Instance { get; } = new();

    /// <summary>The <c>model</c> section of an attention U-Net with <paramref name="options"/>.</summary>
    /// <param name="options">The network's sizes.</param>
    /// <returns>A new section.</returns>
    public static CheckpointConfig.ModelConfig Describe(AttentionUnetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return UnetSection.Describe(TypeName, options.InChannels, options.Features, options.ContextSize, options.ImageSize);
    }

    /// <summary>The sizes an <c>AttentionUnet</c> section declares, checked as <see cref="Validate"/> checks them.</summary>
    /// <param name="section">A <c>model</c> section of type <c>AttentionUnet</c>.</param>
    /// <returns>The validated options.</returns>
    /// <exception cref="InvalidDataException">When the section is not a valid attention U-Net; the message names the field.</exception>
    public static AttentionUnetOptions ReadOptions(CheckpointConfig.ModelConfig section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var (inChannels, features, contextSize, imageSize) = UnetSection.Read(section, TypeName, "the image-folder default is 32", "for example 28");
        var options = new AttentionUnetOptions { InChannels = inChannels, Features = features, ContextSize = contextSize, ImageSize = imageSize };
        try
        {
            options.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"the model section holds an invalid setting: {ex.Message}", ex);
        }

        return options;
    }

    /// <inheritdoc />
    public override DenoiserShape Validate(CheckpointConfig.ModelConfig section)
    {
        var options = ReadOptions(section);
        return new DenoiserShape(options.InChannels, options.ImageSize, options.ContextSize);
    }

    /// <inheritdoc />
    public override IReadOnlyList<WeightSpec> ExpectedWeights(CheckpointConfig.ModelConfig section) => CheckpointWeightLayout.ForAttentionUnet(ReadOptions(section));

    /// <inheritdoc />
    /// <remarks>The network is built without its seeded initialisation (every weight is overwritten next).</remarks>
    public override DenoiserModule Create(CheckpointConfig.ModelConfig section) => AttentionUnet.CreateForLoading(ReadOptions(section));
}
