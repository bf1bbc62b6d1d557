using System.Text.Json.Serialization;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// The <c>config.json</c> of a checkpoint folder: everything needed to rebuild the model, the noise schedule and the
/// prompt encoder. Names follow diffusers/PyTorch conventions (snake_case) so the file reads naturally next to
/// <c>model.safetensors</c>.
/// </summary>
public sealed class CheckpointConfig
{
    /// <summary>The value of <see cref="Format"/> in every DiffusionKit checkpoint.</summary>
    public const string FormatName = "diffusionkit-checkpoint";

    /// <summary>The newest <see cref="Version"/> this library reads and writes.</summary>
    public const int CurrentVersion = 1;

    /// <summary>Always <see cref="FormatName"/>.</summary>
    [JsonPropertyName("format")]
    public string Format { get; set; } = FormatName;

    /// <summary>Format version; readers refuse versions newer than <see cref="CurrentVersion"/>.</summary>
    [JsonPropertyName("version")]
    public int Version { get; set; } = CurrentVersion;

    /// <summary>The network's architecture.</summary>
    [JsonPropertyName("model")]
    public ModelConfig Model { get; set; } = new();

    /// <summary>The training noise schedule.</summary>
    [JsonPropertyName("scheduler")]
    public ScheduleConfig Scheduler { get; set; } = new();

    /// <summary>The prompt encoder.</summary>
    [JsonPropertyName("text_encoder")]
    public TextEncoderConfig TextEncoder { get; set; } = new();

    /// <summary>How the weights were trained (informational; not needed to load).</summary>
    [JsonPropertyName("training")]
    public Dictionary<string, string> Training { get; set; } = new();

    /// <summary>Architecture of a context U-Net.</summary>
    public sealed class ModelConfig
    {
        /// <summary>Model type; only <c>ContextUnet</c> exists today.</summary>
        [JsonPropertyName("type")]
        public string Type { get; set; } = "ContextUnet";

        /// <summary>Image channels.</summary>
        [JsonPropertyName("in_channels")]
        public int InChannels { get; set; } = 3;

        /// <summary>Width (the course's <c>n_feat</c>).</summary>
        [JsonPropertyName("n_feat")]
        public int Features { get; set; } = 64;

        /// <summary>Context length (the course's <c>n_cfeat</c>).</summary>
        [JsonPropertyName("n_cfeat")]
        public int ContextSize { get; set; } = 5;

        /// <summary>Image height and width (the course's <c>height</c>).</summary>
        [JsonPropertyName("height")]
        public int ImageSize { get; set; } = 16;
    }

    /// <summary>The course's linear schedule.</summary>
    public sealed class ScheduleConfig
    {
        /// <summary>T.</summary>
        [JsonPropertyName("num_train_timesteps")]
        public int TrainTimesteps { get; set; } = 500;

        /// <summary>beta1.</summary>
        [JsonPropertyName("beta_start")]
        public double BetaStart { get; set; } = 1e-4;

        /// <summary>beta2.</summary>
        [JsonPropertyName("beta_end")]
        public double BetaEnd { get; set; } = 0.02;
    }

    /// <summary>The prompt encoder and its settings.</summary>
    public sealed class TextEncoderConfig
    {
        /// <summary>Encoder type; <c>bag-of-words</c> today.</summary>
        [JsonPropertyName("type")]
        public string Type { get; set; } = "bag-of-words";

        /// <summary>The vocabulary, in context-vector order.</summary>
        [JsonPropertyName("vocabulary")]
        public List<string> Vocabulary { get; set; } = new();

        /// <summary>Words the encoder ignores.</summary>
        [JsonPropertyName("stop_words")]
        public List<string> StopWords { get; set; } = new();
    }
}
