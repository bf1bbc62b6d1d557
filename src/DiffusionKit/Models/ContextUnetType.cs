using System.Globalization;
using System.Text.Json;
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

    private const string InChannelsField = "in_channels";
    private const string FeaturesField = "n_feat";
    private const string ContextSizeField = "n_cfeat";
    private const string ImageSizeField = "height";
    private static readonly string[] Fields = [InChannelsField, FeaturesField, ContextSizeField, ImageSizeField];

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
        return new CheckpointConfig.ModelConfig
        {
            Type = TypeName,
            Settings = new Dictionary<string, JsonElement>
            {
                [InChannelsField] = JsonSerializer.SerializeToElement(options.InChannels),
                [FeaturesField] = JsonSerializer.SerializeToElement(options.Features),
                [ContextSizeField] = JsonSerializer.SerializeToElement(options.ContextSize),
                [ImageSizeField] = JsonSerializer.SerializeToElement(options.ImageSize),
            },
        };
    }

    /// <summary>The sizes a <c>ContextUnet</c> section declares, checked as <see cref="Validate"/> checks them.</summary>
    /// <param name="section">A <c>model</c> section of type <c>ContextUnet</c>.</param>
    /// <returns>The validated options.</returns>
    /// <exception cref="InvalidDataException">When the section is not a valid context U-Net; the message names the field.</exception>
    public static ContextUnetOptions ReadOptions(CheckpointConfig.ModelConfig section)
    {
        ArgumentNullException.ThrowIfNull(section);
        if (section.Type != TypeName)
        {
            throw new InvalidDataException($"field 'model.type' is '{section.Type}', not '{TypeName}'.");
        }

        var settings = section.Settings ?? new Dictionary<string, JsonElement>();
        if (settings.Keys.FirstOrDefault(k => !Fields.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            throw new InvalidDataException($"field 'model.{unknown}' is not a field of a {TypeName} model; its fields are {string.Join(", ", Fields)}.");
        }

        int inChannels = Integer(settings, InChannelsField);
        int features = Integer(settings, FeaturesField);
        int contextSize = Integer(settings, ContextSizeField);
        int imageSize = Integer(settings, ImageSizeField);
        Range(InChannelsField, inChannels, 1, CheckpointLimits.MaxInChannels, "3 for RGB images");
        Range(FeaturesField, features, 8, CheckpointLimits.MaxFeatures, "a multiple of 8; the course uses 64");
        if (features % 8 != 0)
        {
            throw Field(FeaturesField, features, "must be a multiple of 8 (GroupNorm uses 8 groups)");
        }

        Range(ContextSizeField, contextSize, 1, CheckpointLimits.MaxContextSize, "the context vector's length");
        Range(ImageSizeField, imageSize, 8, CheckpointLimits.MaxImageSize, "a multiple of 4; the course uses 16");
        if (imageSize % 4 != 0)
        {
            throw Field(ImageSizeField, imageSize, "must be a multiple of 4 (the U-Net halves the image twice)");
        }

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

    private static int Integer(Dictionary<string, JsonElement> settings, string field)
    {
        if (!settings.TryGetValue(field, out var value))
        {
            throw new InvalidDataException($"field 'model.{field}' is missing; a {TypeName} model needs {string.Join(", ", Fields)}.");
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int number))
        {
            throw new InvalidDataException($"field 'model.{field}' is {Show(value)}; it must be a JSON integer.");
        }

        return number;
    }

    private static string Show(JsonElement value)
    {
        string raw = value.GetRawText();
        return raw.Length <= 40 ? raw : raw[..40] + "...";
    }

    private static void Range(string field, long value, long min, long max, string hint)
    {
        if (value < min || value > max)
        {
            throw Field(field, value, FormattableString.Invariant($"must be in {min}..{max} ({hint}; see CheckpointLimits)"));
        }
    }

    private static InvalidDataException Field(string field, long value, string rule) =>
        new($"field 'model.{field}' is {value.ToString(CultureInfo.InvariantCulture)}; it {rule}.");
}
