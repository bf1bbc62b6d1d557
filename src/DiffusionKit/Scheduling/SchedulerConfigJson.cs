using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace DiffusionKit.Scheduling;

/// <summary>
/// The one serialiser of <see cref="SchedulerOptions"/>: a diffusers-style <c>scheduler_config.json</c> (diffusers' keys
/// and names: <c>"beta_schedule": "scaled_linear"</c>, <c>"prediction_type": "v_prediction"</c>, ...). A checkpoint's
/// <c>config.json</c> stores its <c>scheduler</c> section in this format too (through <see cref="Converter"/>), so a
/// loaded model can be sampled with another algorithm and its settings read the way diffusers users expect.
/// </summary>
/// <remarks>
/// <para>The convention is stored as <c>"diffusionkit_convention"</c> (<c>"course"</c> or <c>"diffusers"</c>); a config
/// without it (one written by diffusers) is read with <see cref="ScheduleConvention.Diffusers"/>. Checkpoints written
/// before the formats were unified have <c>"convention"</c> instead, which is read the same way. Keys this library does
/// not know are ignored; known keys with unsupported values (<c>thresholding: true</c>, <c>use_karras_sigmas: true</c>,
/// <c>trained_betas</c>, another <c>algorithm_type</c> ...) and unknown names fail, naming the key and the allowed values.</para>
/// <para>Stateless and thread-safe.</para>
/// </remarks>
public static class SchedulerConfigJson
{
    private const string ConventionKey = "diffusionkit_convention";
    private const string LegacyConventionKey = "convention";
    private const string OdeAlgorithmType = "dpmsolver++";
    private const string SdeAlgorithmType = "sde-dpmsolver++";

    /// <summary>Writes <paramref name="options"/> (validated first) as indented JSON with diffusers' keys.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid.</exception>
    public static string Serialize(SchedulerOptions options) => ToJson(options).ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Reads options from a scheduler config and validates them.</summary>
    /// <param name="json">A JSON object with diffusers' scheduler keys.</param>
    /// <returns>The validated options.</returns>
    /// <exception cref="ArgumentException">When the JSON is malformed, a value has the wrong type or an unknown name, or
    /// an unsupported feature is switched on; the message names the key.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When a value is out of range (from <see cref="SchedulerOptions.Validate"/>).</exception>
    public static SchedulerOptions Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("A scheduler config must be a JSON object.", nameof(json));
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"The scheduler config is not valid JSON: {e.Message}", nameof(json), e);
        }

        return FromJson(root);
    }

    private static JsonObject ToJson(SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var json = new JsonObject
        {
            ["_class_name"] = SchedulerNames.Format(options.Algorithm),
            [ConventionKey] = options.Convention == ScheduleConvention.Course ? "course" : "diffusers",
            ["num_train_timesteps"] = options.TrainTimesteps,
            ["beta_start"] = options.BetaStart,
            ["beta_end"] = options.BetaEnd,
            ["beta_schedule"] = SchedulerNames.Format(options.BetaSchedule),
            ["prediction_type"] = SchedulerNames.Format(options.PredictionType),
            ["timestep_spacing"] = SchedulerNames.Format(options.TimestepSpacing),
            ["steps_offset"] = options.StepsOffset,
            ["clip_sample"] = options.ClipSample,
            ["clip_sample_range"] = options.ClipSampleRange,
            ["set_alpha_to_one"] = options.SetAlphaToOne,
            ["eta"] = options.Eta,
            ["variance_type"] = SchedulerNames.Format(options.VarianceType),
            ["solver_order"] = options.SolverOrder,
            ["lower_order_final"] = options.LowerOrderFinal,
            ["final_sigmas_type"] = SchedulerNames.Format(options.FinalSigmas),
        };
        if (options.Algorithm is SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverMultistepSde)
        {
            json["algorithm_type"] = options.Algorithm == SamplerKind.DpmSolverMultistepSde ? SdeAlgorithmType : OdeAlgorithmType;
        }

        if (options.InferenceSteps is int steps)
        {
            json["num_inference_steps"] = steps;
        }

        return json;
    }

    private static SchedulerOptions FromJson(JsonObject root)
    {
        Reject(root, "thresholding", n => n.GetValueKind() == JsonValueKind.True, "dynamic thresholding is not supported; set it to false");
        Reject(root, "use_karras_sigmas", n => n.GetValueKind() == JsonValueKind.True, "Karras sigmas are not supported; set it to false");
        Reject(root, "rescale_betas_zero_snr", n => n.GetValueKind() == JsonValueKind.True, "zero-SNR rescaling is not supported; set it to false");
        Reject(root, "trained_betas", n => n.GetValueKind() != JsonValueKind.Null, "explicit betas are not supported; use beta_start, beta_end and beta_schedule");
        Reject(root, "algorithm_type", n => String(n, "algorithm_type") is not (OdeAlgorithmType or SdeAlgorithmType), $"only \"{OdeAlgorithmType}\" and \"{SdeAlgorithmType}\" are supported");
        Reject(root, "solver_type", n => String(n, "solver_type") != "midpoint", "only \"midpoint\" is supported");

        var defaults = new SchedulerOptions();
        var options = new SchedulerOptions
        {
            Algorithm = WithAlgorithmType(Get(root, "_class_name", n => SchedulerNames.ParseClassName(String(n, "_class_name")), defaults.Algorithm), root),
            Convention = ReadConvention(root),
            TrainTimesteps = Get(root, "num_train_timesteps", n => Int(n, "num_train_timesteps"), defaults.TrainTimesteps),
            BetaStart = Get(root, "beta_start", n => Double(n, "beta_start"), defaults.BetaStart),
            BetaEnd = Get(root, "beta_end", n => Double(n, "beta_end"), defaults.BetaEnd),
            BetaSchedule = Get(root, "beta_schedule", n => SchedulerNames.ParseBetaSchedule(String(n, "beta_schedule")), defaults.BetaSchedule),
            PredictionType = Get(root, "prediction_type", n => SchedulerNames.ParsePredictionType(String(n, "prediction_type")), defaults.PredictionType),
            TimestepSpacing = Get(root, "timestep_spacing", n => SchedulerNames.ParseTimestepSpacing(String(n, "timestep_spacing")), defaults.TimestepSpacing),
            StepsOffset = Get(root, "steps_offset", n => Int(n, "steps_offset"), defaults.StepsOffset),
            ClipSample = Get(root, "clip_sample", n => Bool(n, "clip_sample"), defaults.ClipSample),
            ClipSampleRange = Get(root, "clip_sample_range", n => Double(n, "clip_sample_range"), defaults.ClipSampleRange),
            SetAlphaToOne = Get(root, "set_alpha_to_one", n => Bool(n, "set_alpha_to_one"), defaults.SetAlphaToOne),
            Eta = Get(root, "eta", n => Double(n, "eta"), defaults.Eta),
            VarianceType = Get(root, "variance_type", n => SchedulerNames.ParseVarianceType(String(n, "variance_type")), defaults.VarianceType),
            SolverOrder = Get(root, "solver_order", n => Int(n, "solver_order"), defaults.SolverOrder),
            LowerOrderFinal = Get(root, "lower_order_final", n => Bool(n, "lower_order_final"), defaults.LowerOrderFinal),
            FinalSigmas = Get(root, "final_sigmas_type", n => SchedulerNames.ParseFinalSigmas(String(n, "final_sigmas_type")), defaults.FinalSigmas),
            InferenceSteps = Get<int?>(root, "num_inference_steps", n => Int(n, "num_inference_steps"), null),
        };
        options.Validate();
        return options;
    }

    private static T Get<T>(JsonObject root, string key, Func<JsonNode, T> read, T fallback)
        => root.TryGetPropertyValue(key, out var node) && node is not null ? read(node) : fallback;

    private static void Reject(JsonObject root, string key, Func<JsonNode, bool> unsupported, string why)
    {
        if (root.TryGetPropertyValue(key, out var node) && node is not null && unsupported(node))
        {
            throw new ArgumentException($"Scheduler config key \"{key}\" = {node.ToJsonString()}: {why}.", "json");
        }
    }

    /// <summary>The convention key, else the legacy one of older checkpoints, else diffusers' (a config diffusers wrote).</summary>
    private static ScheduleConvention ReadConvention(JsonObject root)
    {
        string key = root.ContainsKey(ConventionKey) || !root.ContainsKey(LegacyConventionKey) ? ConventionKey : LegacyConventionKey;
        return Get(root, key, n => String(n, key) switch
        {
            "course" => ScheduleConvention.Course,
            "diffusers" => ScheduleConvention.Diffusers,
            string name => throw new ArgumentException($"Unknown {key} \"{name}\"; allowed: course, diffusers.", "json"),
        }, ScheduleConvention.Diffusers);
    }

    private static string String(JsonNode node, string key) => node.GetValueKind() == JsonValueKind.String
        ? node.GetValue<string>()
        : throw WrongType(key, node, "a string");

    private static bool Bool(JsonNode node, string key) => node.GetValueKind() switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw WrongType(key, node, "true or false"),
    };

    private static double Double(JsonNode node, string key) => node.GetValueKind() == JsonValueKind.Number
        ? node.GetValue<double>()
        : throw WrongType(key, node, "a number");

    private static int Int(JsonNode node, string key)
    {
        if (node.GetValueKind() == JsonValueKind.Number)
        {
            double value = node.GetValue<double>();
            if (value == Math.Floor(value) && value >= int.MinValue && value <= int.MaxValue)
            {
                return (int)value;
            }
        }

        throw WrongType(key, node, "an integer");
    }

    private static ArgumentException WrongType(string key, JsonNode node, string expected)
        => new($"Scheduler config key \"{key}\" must be {expected} but is {node.ToJsonString()}.", "json");

    /// <summary>diffusers keeps DPM-Solver++ and its SDE variant in one class, told apart by <c>algorithm_type</c>.</summary>
    private static SamplerKind WithAlgorithmType(SamplerKind algorithm, JsonObject root) =>
        algorithm == SamplerKind.DpmSolverMultistep && root["algorithm_type"] is JsonNode type && String(type, "algorithm_type") == SdeAlgorithmType
            ? SamplerKind.DpmSolverMultistepSde
            : algorithm;

    /// <summary>
    /// Reads and writes <see cref="SchedulerOptions"/> in this format inside a larger JSON document (a checkpoint's
    /// <c>scheduler</c> section). Invalid settings become a <see cref="JsonException"/> whose message names the key, so
    /// a reader reports them with the file and the path.
    /// </summary>
    internal sealed class Converter : JsonConverter<SchedulerOptions>
    {
        /// <inheritdoc />
        public override SchedulerOptions Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var node = JsonNode.Parse(ref reader);
            if (node is not JsonObject root)
            {
                throw new JsonException("The scheduler section must be a JSON object with diffusers' scheduler keys.");
            }

            try
            {
                return FromJson(root);
            }
            catch (ArgumentException ex)
            {
                throw new JsonException(ex.Message, ex);
            }
        }

        /// <inheritdoc />
        public override void Write(Utf8JsonWriter writer, SchedulerOptions value, JsonSerializerOptions options) => ToJson(value).WriteTo(writer, options);
    }
}
