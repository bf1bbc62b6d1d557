using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using DiffusionKit.Scheduling;
using Microsoft.Extensions.AI;

namespace DiffusionKit.Extensions.AI;

/// <summary>
/// Exposes an <see cref="IDiffusionPipeline"/> as Microsoft.Extensions.AI's <see cref="IImageGenerator"/>: the request's
/// prompt in, one PNG <see cref="DataContent"/> (<c>image/png</c>) per image out, so apps written against the
/// abstraction use DiffusionKit unchanged.
/// </summary>
/// <remarks>
/// <para>Options: <see cref="ImageGenerationOptions.Count"/> is the number of images (default 1);
/// <see cref="ImageGenerationOptions.MediaType"/> must be null or <c>image/png</c>; <see cref="ImageGenerationOptions.ResponseFormat"/>
/// null or <see cref="ImageGenerationResponseFormat.Data"/>; <see cref="ImageGenerationOptions.ModelId"/> null or this
/// generator's model id. <see cref="ImageGenerationOptions.ImageSize"/> is not used: a model generates one size, and the
/// abstraction says a provider with fixed sizes uses the closest. Seed, steps, guidance and sampler come from
/// <see cref="ImageGenerationOptions.AdditionalProperties"/> (<see cref="ImageGenerationProperties"/>).</para>
/// <para>Image editing (<see cref="ImageGenerationRequest.OriginalImages"/>) is not supported and throws
/// <see cref="NotSupportedException"/>. Thread-safe when the pipeline is (DiffusionKit's is). Disposing the generator
/// does not dispose the pipeline, which the caller (or the DI container) owns.</para>
/// </remarks>
[Experimental("MEAI001")]
public sealed class DiffusionPipelineImageGenerator : IImageGenerator
{
    /// <summary>The provider name in <see cref="ImageGeneratorMetadata"/>.</summary>
    public const string ProviderName = "diffusionkit";

    private const string PngMediaType = "image/png";
    private readonly IDiffusionPipeline _pipeline;
    private readonly ImageGeneratorMetadata _metadata;

    /// <summary>Wraps <paramref name="pipeline"/>.</summary>
    /// <param name="pipeline">The pipeline that generates the images; not disposed by this generator.</param>
    /// <param name="modelId">The model id reported in the metadata and accepted in <see cref="ImageGenerationOptions.ModelId"/>; null for none.</param>
    public DiffusionPipelineImageGenerator(IDiffusionPipeline pipeline, string? modelId = null)
    {
        _pipeline = pipeline ?? throw new ArgumentNullException(nameof(pipeline));
        _metadata = new ImageGeneratorMetadata(ProviderName, providerUri: null, defaultModelId: modelId);
    }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">When the prompt is missing, or an option or additional property has a value DiffusionKit cannot use; the message names it.</exception>
    /// <exception cref="NotSupportedException">For image editing, a media type other than PNG, or a URI/hosted response format.</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    public async Task<ImageGenerationResponse> GenerateAsync(ImageGenerationRequest request, ImageGenerationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var generation = ToGenerationRequest(request, options);
        var result = await _pipeline.GenerateAsync(generation, cancellationToken).ConfigureAwait(false);

        var contents = new List<AIContent>(result.Images.Count);
        foreach (var image in result.Images)
        {
            contents.Add(new DataContent(image.Png, PngMediaType)
            {
                AdditionalProperties = new AdditionalPropertiesDictionary { [ImageGenerationProperties.Seed] = image.Seed },
                RawRepresentation = image,
            });
        }

        return new ImageGenerationResponse(contents) { RawRepresentation = result };
    }

    /// <inheritdoc />
    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        return serviceType == typeof(ImageGeneratorMetadata) ? _metadata
            : serviceType.IsInstanceOfType(this) ? this
            : serviceType.IsInstanceOfType(_pipeline) ? _pipeline
            : null;
    }

    /// <summary>Does nothing: the pipeline belongs to the caller.</summary>
    public void Dispose()
    {
    }

    /// <summary>Maps the abstraction's request and options to a DiffusionKit request, refusing what it cannot honour.</summary>
    private GenerationRequest ToGenerationRequest(ImageGenerationRequest request, ImageGenerationOptions? options)
    {
        if (string.IsNullOrWhiteSpace(request.Prompt))
        {
            throw new ArgumentException("ImageGenerationRequest.Prompt is required: DiffusionKit generates images from a text prompt.", nameof(request));
        }

        if (request.OriginalImages?.Any() == true)
        {
            throw new NotSupportedException("DiffusionKit generates images from text only; image editing (ImageGenerationRequest.OriginalImages) is not supported.");
        }

        int count = options?.Count ?? 1;
        if (count < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), count, "ImageGenerationOptions.Count must be at least 1 (or null for one image).");
        }

        if (options?.MediaType is { } mediaType && !string.Equals(mediaType, PngMediaType, StringComparison.OrdinalIgnoreCase))
        {
            throw new NotSupportedException($"ImageGenerationOptions.MediaType '{mediaType}' is not supported; DiffusionKit returns {PngMediaType} (leave it null).");
        }

        if (options?.ResponseFormat is { } format && format != ImageGenerationResponseFormat.Data)
        {
            throw new NotSupportedException($"ImageGenerationOptions.ResponseFormat {format} is not supported; DiffusionKit returns the image data (Data, or leave it null).");
        }

        if (options?.ModelId is { } modelId && !string.Equals(modelId, _metadata.DefaultModelId, StringComparison.Ordinal))
        {
            throw new ArgumentException($"ImageGenerationOptions.ModelId '{modelId}' is not this generator's model ('{_metadata.DefaultModelId ?? "none"}'); leave it null or create a generator per model.", nameof(options));
        }

        var properties = options?.AdditionalProperties;
        return new GenerationRequest
        {
            Prompts = [request.Prompt],
            ImagesPerPrompt = count,
            Seed = ReadInteger(properties, ImageGenerationProperties.Seed, long.MinValue, long.MaxValue),
            Steps = (int?)ReadInteger(properties, ImageGenerationProperties.Steps, 1, int.MaxValue),
            GuidanceScale = ReadGuidance(properties),
            Sampler = ReadSampler(properties),
        };
    }

    private static long? ReadInteger(AdditionalPropertiesDictionary? properties, string key, long min, long max)
    {
        if (properties is null || !properties.TryGetValue(key, out object? value) || value is null)
        {
            return null;
        }

        long? parsed = value switch
        {
            long l => l,
            int i => i,
            short s => s,
            uint u => u,
            double d when d == Math.Floor(d) && d >= long.MinValue && d <= long.MaxValue => (long)d,
            string text when long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
            JsonElement { ValueKind: JsonValueKind.Number } json when json.TryGetInt64(out long l) => l,
            JsonElement { ValueKind: JsonValueKind.String } json when long.TryParse(json.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) => l,
            _ => null,
        };
        if (parsed is not { } result || result < min || result > max)
        {
            throw new ArgumentException($"ImageGenerationOptions.AdditionalProperties[\"{key}\"] is {Describe(value)}; it must be an integer in {min}..{max}.", "options");
        }

        return result;
    }

    private static double? ReadGuidance(AdditionalPropertiesDictionary? properties)
    {
        const string key = ImageGenerationProperties.GuidanceScale;
        if (properties is null || !properties.TryGetValue(key, out object? value) || value is null)
        {
            return null;
        }

        double? parsed = value switch
        {
            double d => d,
            float f => f,
            long l => l,
            int i => i,
            decimal m => (double)m,
            string text when double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) => d,
            JsonElement { ValueKind: JsonValueKind.Number } json => json.GetDouble(),
            _ => null,
        };
        if (parsed is not { } result || !(double.IsFinite(result) && result is >= 0 and <= GuidanceRange.Max + 1))
        {
            throw new ArgumentException($"ImageGenerationOptions.AdditionalProperties[\"{key}\"] is {Describe(value)}; as diffusers' guidance_scale s it must be a finite number within 0..{(GuidanceRange.Max + 1).ToString(CultureInfo.InvariantCulture)} (s ≤ 1 turns guidance off; DiffusionKit's weight w is s − 1).", "options");
        }

        return GuidanceRange.FromDiffusersScale(result, key);
    }

    private static SamplerKind? ReadSampler(AdditionalPropertiesDictionary? properties)
    {
        const string key = ImageGenerationProperties.Sampler;
        if (properties is null || !properties.TryGetValue(key, out object? value) || value is null)
        {
            return null;
        }

        string? name = value switch
        {
            string text => text,
            SamplerKind kind => kind.ToString(),
            JsonElement { ValueKind: JsonValueKind.String } json => json.GetString(),
            _ => null,
        };
        return SchedulerNames.TryParseSampler(name, out var sampler)
            ? sampler
            : throw new ArgumentException($"ImageGenerationOptions.AdditionalProperties[\"{key}\"] is {Describe(value)}; allowed: {SchedulerNames.AllowedSamplerNames}.", "options");
    }

    private static string Describe(object value) => value is JsonElement json ? json.GetRawText() : $"'{value}' ({value.GetType().Name})";
}
