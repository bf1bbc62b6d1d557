using System.Globalization;
using System.Text.Json;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Server;

/// <summary>
/// Turns the API's fields (<c>prompt</c>, <c>seed</c>, <c>n</c>, <c>steps</c>, <c>guidance</c> or <c>guidance_scale</c>,
/// <c>sampler</c>), from a query string or a JSON body, into a <see cref="GenerationRequest"/>. <c>guidance</c> is
/// DiffusionKit's weight w; <c>guidance_scale</c> is diffusers' s = w + 1 (<see cref="GuidanceRange.FromDiffusersScale"/>). Only the syntax is checked here (types, unknown
/// fields, a missing prompt); ranges and limits are the pipeline's to check, so the server never disagrees with it.
/// </summary>
internal static class ImageRequestParser
{
    /// <summary>The API's field names, in the order the documentation lists them.</summary>
    internal static readonly string[] Fields = ["prompt", "seed", "n", "steps", "guidance", "guidance_scale", "sampler"];

    /// <summary>Parses a query string.</summary>
    internal static GenerationRequest FromQuery(IQueryCollection query)
    {
        var raw = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, values) in query)
        {
            if (values.Count > 1)
            {
                throw new ApiFieldException(key, $"'{key}' is given {values.Count} times; give it once.");
            }

            raw[key] = values[0];
        }

        return FromFields(raw);
    }

    /// <summary>Parses a JSON object body.</summary>
    internal static GenerationRequest FromJson(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new ApiFieldException("body", "The body must be a JSON object such as {\"prompt\": \"a large red circle\", \"seed\": 1}.");
        }

        var raw = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in body.EnumerateObject())
        {
            // JSON has types: a number field takes a JSON number ({"n": 3}, not {"n": "3"}) and a text field a string.
            bool text = TextFields.Contains(property.Name, StringComparer.OrdinalIgnoreCase);
            raw[property.Name] = property.Value.ValueKind switch
            {
                JsonValueKind.Null => null,
                JsonValueKind.String when text => property.Value.GetString(),
                JsonValueKind.Number when !text => property.Value.GetRawText(),
                _ when !Fields.Contains(property.Name, StringComparer.OrdinalIgnoreCase) => null,
                var kind => throw new ApiFieldException(property.Name, $"'{property.Name}' must be a JSON {(text ? "string" : "number")}, not {JsonKind(kind)} ({Shorten(property.Value.GetRawText())}){(text ? string.Empty : $"; write {{\"{property.Name}\": 3}}, not {{\"{property.Name}\": \"3\"}}")}."),
            };
        }

        return FromFields(raw);
    }

    /// <summary>The fields whose JSON values are strings; the others are numbers.</summary>
    private static readonly string[] TextFields = ["prompt", "sampler"];

    private static string JsonKind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => kind.ToString().ToLowerInvariant(),
    };

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";

    /// <summary>Maps a pipeline's <see cref="ArgumentException.ParamName"/> (a <see cref="GenerationRequest"/> property) to the API field.</summary>
    internal static string FieldOf(string? paramName) => paramName switch
    {
        nameof(GenerationRequest.Prompts) => "prompt",
        nameof(GenerationRequest.ImagesPerPrompt) => "n",
        nameof(GenerationRequest.Steps) => "steps",
        nameof(GenerationRequest.GuidanceScale) => "guidance",
        nameof(GenerationRequest.Seed) => "seed",
        nameof(GenerationRequest.Sampler) => "sampler",
        null or "" => "request",
        _ => paramName,
    };

    private static GenerationRequest FromFields(Dictionary<string, string?> raw)
    {
        foreach (var key in raw.Keys)
        {
            if (!Fields.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw new ApiFieldException(key, $"Unknown field '{key}'; the fields are {string.Join(", ", Fields)}.");
            }
        }

        if (!raw.TryGetValue("prompt", out var prompt) || prompt is null)
        {
            throw new ApiFieldException("prompt", "'prompt' is required (for example 'a large red circle'; an empty prompt asks for an unconditional image).");
        }

        return new GenerationRequest
        {
            Prompts = [prompt],
            Seed = ParseInteger(raw, "seed", long.MinValue, long.MaxValue),
            ImagesPerPrompt = (int?)ParseInteger(raw, "n", int.MinValue, int.MaxValue) ?? 1,
            Steps = (int?)ParseInteger(raw, "steps", int.MinValue, int.MaxValue),
            GuidanceScale = ParseGuidance(raw),
            Sampler = ParseSampler(raw),
        };
    }

    private static long? ParseInteger(Dictionary<string, string?> raw, string field, long min, long max)
    {
        if (!raw.TryGetValue(field, out var text) || string.IsNullOrEmpty(text))
        {
            return null;
        }

        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value) || value < min || value > max)
        {
            throw new ApiFieldException(field, $"'{field}' is '{text}'; it must be a whole number between {min} and {max}.");
        }

        return value;
    }

    private static double? ParseNumber(Dictionary<string, string?> raw, string field)
    {
        if (!raw.TryGetValue(field, out var text) || string.IsNullOrEmpty(text))
        {
            return null;
        }

        // NaN and Infinity parse here on purpose: the pipeline rejects them with its own message.
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
        {
            throw new ApiFieldException(field, $"'{field}' is '{text}'; it must be a number such as 3 or 2.5.");
        }

        return value;
    }

    /// <summary><c>guidance</c> (the weight w) or <c>guidance_scale</c> (diffusers' s = w + 1), not both.</summary>
    private static double? ParseGuidance(Dictionary<string, string?> raw)
    {
        double? weight = ParseNumber(raw, "guidance");
        double? scale = ParseNumber(raw, "guidance_scale");
        if (weight is not null && scale is not null)
        {
            throw new ApiFieldException("guidance_scale", "Give 'guidance' (DiffusionKit's weight w) or 'guidance_scale' (diffusers' s = w + 1), not both.");
        }

        if (scale is not { } s)
        {
            return weight;
        }

        try
        {
            return GuidanceRange.FromDiffusersScale(s, "guidance_scale");
        }
        catch (ArgumentOutOfRangeException ex)
        {
            throw new ApiFieldException("guidance_scale", ex.Message.Split(" (Parameter")[0]);
        }
    }

    private static SamplerKind? ParseSampler(Dictionary<string, string?> raw)
    {
        if (!raw.TryGetValue("sampler", out var text) || string.IsNullOrEmpty(text))
        {
            return null;
        }

        return SchedulerNames.TryParseSampler(text, out var kind)
            ? kind
            : throw new ApiFieldException("sampler", $"'sampler' is '{text}'; allowed values: {SchedulerNames.AllowedSamplerNames}.");
    }
}
