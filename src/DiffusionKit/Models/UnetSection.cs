using System.Globalization;
using System.Text.Json;
using DiffusionKit.Checkpoints;

namespace DiffusionKit.Models;

/// <summary>
/// The <c>config.json</c> <c>model</c> section both built-in U-Nets write and read: <c>in_channels</c>, <c>n_feat</c>,
/// <c>n_cfeat</c> and <c>height</c>, all required integers bounded by <see cref="CheckpointLimits"/>; unknown fields are
/// refused.
/// </summary>
internal static class UnetSection
{
    private const string InChannelsField = "in_channels";
    private const string FeaturesField = "n_feat";
    private const string ContextSizeField = "n_cfeat";
    private const string ImageSizeField = "height";
    private static readonly string[] Fields = [InChannelsField, FeaturesField, ContextSizeField, ImageSizeField];

    /// <summary>The section of a <paramref name="type"/> network of these sizes (fields in the order every DiffusionKit checkpoint writes them).</summary>
    public static CheckpointConfig.ModelConfig Describe(string type, int inChannels, int features, int contextSize, int imageSize) => new()
    {
        Type = type,
        Settings = new Dictionary<string, JsonElement>
        {
            [InChannelsField] = JsonSerializer.SerializeToElement(inChannels),
            [FeaturesField] = JsonSerializer.SerializeToElement(features),
            [ContextSizeField] = JsonSerializer.SerializeToElement(contextSize),
            [ImageSizeField] = JsonSerializer.SerializeToElement(imageSize),
        },
    };

    /// <summary>The sizes a section of type <paramref name="type"/> declares, each checked against its bounds.</summary>
    /// <param name="section">The section.</param>
    /// <param name="type">The type it must name.</param>
    /// <param name="featuresHint">What <c>n_feat</c> usually is, for messages.</param>
    /// <param name="imageSizeHint">What <c>height</c> usually is, for messages.</param>
    /// <exception cref="InvalidDataException">When the section is not a valid one; the message names the field.</exception>
    public static (int InChannels, int Features, int ContextSize, int ImageSize) Read(CheckpointConfig.ModelConfig section, string type, string featuresHint, string imageSizeHint)
    {
        if (section.Type != type)
        {
            throw new InvalidDataException($"field 'model.type' is '{section.Type}', not '{type}'.");
        }

        var settings = section.Settings ?? new Dictionary<string, JsonElement>();
        if (settings.Keys.FirstOrDefault(k => !Fields.Contains(k, StringComparer.Ordinal)) is { } unknown)
        {
            throw new InvalidDataException($"field 'model.{unknown}' is not a field of a {type} model; its fields are {string.Join(", ", Fields)}.");
        }

        int inChannels = Integer(settings, InChannelsField, type);
        int features = Integer(settings, FeaturesField, type);
        int contextSize = Integer(settings, ContextSizeField, type);
        int imageSize = Integer(settings, ImageSizeField, type);
        Range(InChannelsField, inChannels, 1, CheckpointLimits.MaxInChannels, "3 for RGB images");
        Range(FeaturesField, features, 8, CheckpointLimits.MaxFeatures, "a multiple of 8; " + featuresHint);
        if (features % 8 != 0)
        {
            throw Field(FeaturesField, features, "must be a multiple of 8 (GroupNorm uses 8 groups)");
        }

        Range(ContextSizeField, contextSize, 1, CheckpointLimits.MaxContextSize, "the context vector's length");
        Range(ImageSizeField, imageSize, 8, CheckpointLimits.MaxImageSize, "a multiple of 4; " + imageSizeHint);
        if (imageSize % 4 != 0)
        {
            throw Field(ImageSizeField, imageSize, "must be a multiple of 4 (the U-Net halves the image twice)");
        }

        return (inChannels, features, contextSize, imageSize);
    }

    private static int Integer(Dictionary<string, JsonElement> settings, string field, string type)
    {
        if (!settings.TryGetValue(field, out var value))
        {
            throw new InvalidDataException($"field 'model.{field}' is missing; a {type} model needs {string.Join(", ", Fields)}.");
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
