using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionKit.Scheduling;

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
    [JsonRequired]
    public string Format { get; set; } = FormatName;

    /// <summary>Format version; readers refuse versions newer than <see cref="CurrentVersion"/>.</summary>
    [JsonPropertyName("version")]
    [JsonRequired]
    public int Version { get; set; } = CurrentVersion;

    /// <summary>The network's architecture.</summary>
    [JsonPropertyName("model")]
    [JsonRequired]
    public ModelConfig Model { get; set; } = new();

    /// <summary>
    /// The training scheduler settings (noise schedule, prediction type, spacing, ...), stored in diffusers'
    /// <c>scheduler_config.json</c> format by <see cref="SchedulerConfigJson"/>. Its <see cref="SchedulerOptions.Algorithm"/>
    /// is the trainer's; any sampler can be used later (<see cref="SchedulerOptions.WithAlgorithm"/>). Required when
    /// reading: a checkpoint without it is refused rather than assumed to predict epsilon.
    /// </summary>
    [JsonPropertyName("scheduler")]
    [JsonRequired]
    [JsonConverter(typeof(SchedulerConfigJson.Converter))]
    public SchedulerOptions Scheduler { get; set; } = new();

    /// <summary>The prompt encoder.</summary>
    [JsonPropertyName("text_encoder")]
    [JsonRequired]
    public TextEncoderConfig TextEncoder { get; set; } = new();

    /// <summary>
    /// The <see cref="Training"/> key that records the data's image mode: <c>L</c> (grayscale, one channel) or
    /// <c>RGB</c> (<see cref="Imaging.ImageModeNames"/>). <c>train</c> writes it; loading checks it against the model's
    /// channels when present, and files without it (written before it existed) load as before, by <c>in_channels</c>
    /// (3: RGB).
    /// </summary>
    public const string ImageModeKey = "image_mode";

    /// <summary>How the weights were trained (informational; not needed to load, but <see cref="ImageModeKey"/> is checked when present).</summary>
    [JsonPropertyName("training")]
    public Dictionary<string, string> Training { get; set; } = new();

    /// <summary>
    /// The sampling settings this checkpoint recommends: a pipeline loaded from it uses them where the caller sets none
    /// (the builder's <c>UseGuidance</c>, <c>DiffusionKit:GuidanceScale</c>, the CLI's <c>--guidance</c> win). Null (no
    /// <c>sampling</c> section) for the library's defaults.
    /// </summary>
    [JsonPropertyName("sampling")]
    public SamplingConfig? Sampling { get; set; }

    /// <summary>Recommended sampling settings (<see cref="Sampling"/>).</summary>
    public sealed class SamplingConfig
    {
        /// <summary>The value of <see cref="GuidanceConvention"/> that says <see cref="GuidanceScale"/> is diffusers' s.</summary>
        public const string DiffusersConvention = "diffusers";

        /// <summary>
        /// <c>guidance_scale</c> as diffusers means it: s of
        /// <c>uncond + s·(cond − uncond)</c> (s = w + 1 for DiffusionKit's weight w) when <see cref="GuidanceConvention"/>
        /// is <c>diffusers</c>, as every checkpoint since 0.1 writes it; in files written before that key (no convention),
        /// the course's weight w, and they load with the same images. Read and set it through <see cref="GuidanceWeight"/>.
        /// </summary>
        [JsonPropertyName("guidance_scale")]
        public double? GuidanceScale { get; set; }

        /// <summary><c>diffusers</c>, or null in files written before the key (where <see cref="GuidanceScale"/> is the weight w).</summary>
        [JsonPropertyName("guidance_convention")]
        public string? GuidanceConvention { get; set; }

        /// <summary>
        /// How the recommended guidance was chosen, in words, or null: <c>train --data</c> writes the measurements on the
        /// folder's validation split and the rule that picked it (<see cref="Quality.GuidanceSelection"/>). Informational; nothing reads it back.
        /// </summary>
        [JsonPropertyName("guidance_selection")]
        public string? GuidanceSelection { get; set; }

        /// <summary>
        /// The recommended guidance as DiffusionKit's weight w (0 turns guidance off; null for the library's default, 3),
        /// whichever convention the file uses; setting it writes diffusers' s = w + 1 with the <c>diffusers</c> convention.
        /// <c>train --data</c> records the weight it chose among 0.5, 1 and 2 on the folder's held-out images
        /// (<see cref="Quality.GuidanceSelection"/> says how), or w = 1 (s = 2) where the captions name no classes: on real-image
        /// folders 1 kept the prompted class recognisable while leaving samples more varied than 3 does (docs/training.md).
        /// </summary>
        /// <exception cref="InvalidDataException">On reading, when <see cref="GuidanceConvention"/> is neither null nor <c>diffusers</c>.</exception>
        [JsonIgnore]
        public double? GuidanceWeight
        {
            get => GuidanceScale is not { } scale ? null
                : GuidanceConvention switch
                {
                    null => scale,
                    DiffusersConvention => Math.Max(0, scale - 1),
                    _ => throw new InvalidDataException($"sampling.guidance_convention is '{GuidanceConvention}'; the known convention is '{DiffusersConvention}' (absent: the weight w of files written before it)."),
                };
            set
            {
                GuidanceScale = value is { } w ? GuidanceRange.ToDiffusersScale(w) : null;
                GuidanceConvention = value is null ? null : DiffusersConvention;
            }
        }
    }

    /// <summary>
    /// The network: its <see cref="Type"/> and that type's own fields. <c>ContextUnet</c> (built in, see
    /// <see cref="Models.ContextUnetType"/>) has <c>in_channels</c>, <c>n_feat</c>, <c>n_cfeat</c> and <c>height</c>;
    /// another registered <see cref="Models.DenoiserType"/> reads and checks its own fields.
    /// </summary>
    [JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)]
    public sealed class ModelConfig
    {
        /// <summary>The registered denoiser type (<see cref="Models.DenoiserType.Name"/>), for example <c>ContextUnet</c>. Loading an unregistered type is an error naming it and the registered types.</summary>
        [JsonPropertyName("type")]
        [JsonRequired]
        public string Type { get; set; } = string.Empty;

        /// <summary>
        /// Every other field of the section, in file order, as JSON values: the settings of <see cref="Type"/>, which its
        /// <see cref="Models.DenoiserType.Validate"/> checks (unknown, missing and ill-typed fields are errors there).
        /// Written after <c>type</c>, in this order.
        /// </summary>
        [JsonExtensionData]
        public Dictionary<string, JsonElement> Settings { get; set; } = new();
    }

    /// <summary>The prompt encoder and its settings.</summary>
    /// <remarks>
    /// <list type="bullet">
    /// <item><c>bag-of-words</c>: <see cref="Vocabulary"/> in context-vector order and <see cref="StopWords"/>.</item>
    /// <item><c>learned</c>: <see cref="Vocabulary"/> (the known words; ids 0 and 1 are &lt;pad&gt; and &lt;unk&gt;, word i
    /// has id i + 2), <see cref="Dimension"/> (token embedding width); the context size is <c>model.n_cfeat</c>; the
    /// weights are in <c>text_encoder.safetensors</c> beside <c>model.safetensors</c>.</item>
    /// <item><c>minilm</c>: <see cref="ModelName"/> <c>all-MiniLM-L6-v2</c> and <see cref="Dimension"/> 384; no weights
    /// are stored (the model ships in the DiffusionKit.TextEncoders.MiniLM package).</item>
    /// </list>
    /// </remarks>
    public sealed class TextEncoderConfig
    {
        /// <summary>The <see cref="Type"/> of the bag-of-words encoder.</summary>
        public const string BagOfWordsType = "bag-of-words";

        /// <summary>The <see cref="Type"/> of the learned encoder.</summary>
        public const string LearnedType = "learned";

        /// <summary>The <see cref="Type"/> of the pretrained all-MiniLM-L6-v2 sentence encoder.</summary>
        public const string MiniLmType = "minilm";

        /// <summary>Encoder type: <c>bag-of-words</c> (the default), <c>learned</c> or <c>minilm</c>.</summary>
        [JsonPropertyName("type")]
        [JsonRequired]
        public string Type { get; set; } = BagOfWordsType;

        /// <summary>
        /// Learned encoder only: <c>sum-layernorm</c> (sum of token embeddings, projection, LayerNorm without affine
        /// weights; what new encoders use) or <c>mean</c> (masked mean, no norm). Absent means <c>mean</c>, so files written
        /// before the field existed load and encode exactly as before.
        /// </summary>
        [JsonPropertyName("pooling")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Pooling { get; set; }

        /// <summary>The vocabulary: context-vector order for bag-of-words, id order (from id 2) for learned; empty for minilm.</summary>
        [JsonPropertyName("vocabulary")]
        public List<string> Vocabulary { get; set; } = new();

        /// <summary>Words the bag-of-words encoder ignores; empty for the other types.</summary>
        [JsonPropertyName("stop_words")]
        public List<string> StopWords { get; set; } = new();

        /// <summary>Embedding width: the learned encoder's token embedding width, the pretrained encoder's output size (384); absent for bag-of-words.</summary>
        [JsonPropertyName("dim")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public int? Dimension { get; set; }

        /// <summary>The pretrained model's name (<c>all-MiniLM-L6-v2</c> for minilm); absent for the other types.</summary>
        [JsonPropertyName("model")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? ModelName { get; set; }
    }
}
