using DiffusionKit.Checkpoints;

namespace DiffusionKit.Models;

/// <summary>
/// The built-in <see cref="DenoiserType"/>: <c>model.type</c> <c>ContextUnet</c>, the course's context U-Net, with
/// the fields <c>in_channels</c>, <c>n_feat</c>, <c>n_cfeat</c> and <c>height</c> (all required integers, bounded by
/// <see cref="CheckpointLimits"/>). Every checkpoint loader knows it without registration.
/// </summary>
public sealed class ContextUnetType : DenoiserType
{
    /// <summary>The <c>model.type</c> value: <c>ContextUnet</c>.</summary>
    public const string TypeName = "ContextUnet";

    private ContextUnetType()
        : base(TypeName)
    {
    }

    /// <summary>The one instance.</summary>
    public static ContextUnetType Instance { get; } = new();

    /// <summary>The <c>model</c> section of a context U-Net with <paramref name="options"/> (fields in the order every DiffusionKit checkpoint writes them).</summary>
    /// <param name="options">The network's sizes.</param>
    /// <returns>A new section.</returns>
    public static CheckpointConfig.ModelConfig Describe(ContextUnetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return UnetSection.Describe(TypeName, options.InChannels, options.Features, options.ContextSize, options.ImageSize);
    }

    /// <summary>The sizes a <c>ContextUnet</c> section declares, checked as <see cref="Validate"/> checks them.</summary>
    /// <param name="section">A <c>model</c> section of type <c>ContextUnet</c>.</param>
    /// <returns>The validated options.</returns>
    /// <exception cref="InvalidDataException">When the section is not a valid context U-Net; the message names the field.</exception>
    public static ContextUnetOptions ReadOptions(CheckpointConfig.ModelConfig section)
    {
        ArgumentNullException.ThrowIfNull(section);
        var (inChannels, features, contextSize, imageSize) = UnetSection.Read(section, TypeName, "the course uses 64", "the course uses 16");
        var options = new ContextUnetOptions { InChannels = inChannels, Features = features, ContextSize = contextSize, ImageSize = imageSize };
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
    public override IReadOnlyList<WeightSpec> ExpectedWeights(CheckpointConfig.ModelConfig section) => CheckpointWeightLayout.ForContextUnet(ReadOptions(section));

    /// <inheritdoc />
    /// <remarks>The network is built without its seeded initialisation (every weight is overwritten next).</remarks>
    public override DenoiserModule Create(CheckpointConfig.ModelConfig section) => ContextUnet.CreateForLoading(ReadOptions(section));
}
