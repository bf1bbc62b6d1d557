using System.Globalization;
using System.Text.Json;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;

using DiffusionKit.Imaging;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// Saves and loads a checkpoint folder: <c>config.json</c> (<see cref="CheckpointConfig"/>),
/// <c>model.safetensors</c> (the denoiser's <c>state_dict</c>; the context U-Net's under PyTorch-compatible names) and,
/// for the learned prompt encoder only, <c>text_encoder.safetensors</c> (its weights, so <c>model.safetensors</c> stays
/// the denoiser alone).
/// </summary>
/// <remarks>
/// <para>Each file is written atomically (temporary file, then rename), so a crash never leaves a half-written file.</para>
/// <para>
/// <c>model.type</c> names the denoiser's <see cref="DenoiserType"/>. Loaders know <see cref="ContextUnetType"/>; the
/// overloads with <c>denoiserTypes</c> know those too, and a checkpoint of any other type is an
/// <see cref="InvalidDataException"/> naming the field, the type and the registered types.
/// </para>
/// </remarks>
public static class DiffusionCheckpoint
{
    /// <summary>The configuration file name.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The weights file name.</summary>
    public const string WeightsFileName = "model.safetensors";

    /// <summary>The learned prompt encoder's weights file name (present only when <c>text_encoder.type</c> is <c>learned</c>).</summary>
    public const string TextEncoderWeightsFileName = "text_encoder.safetensors";

    /// <summary>The training state's tensors (optimiser moments, live weights, EMA shadows, RNG, data order), written by training runs so they can be resumed.</summary>
    public const string TrainingStateFileName = "training_state.safetensors";

    /// <summary>The training state's counters and settings (step, Adam step counts, batch size, ...).</summary>
    public const string TrainingStateInfoFileName = "training_state.json";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Describes <paramref name="model"/>, <paramref name="schedule"/> and <paramref name="encoder"/> as a config.</summary>
    /// <param name="model">The network; its <see cref="DenoiserModule.DescribeForCheckpoint"/> becomes the <c>model</c> section.</param>
    /// <param name="schedule">The training schedule.</param>
    /// <param name="encoder">A <see cref="BagOfWordsEncoder"/>, a <see cref="LearnedTextEncoder"/> or an <see cref="ICheckpointTextEncoder"/> (such as the MiniLM encoder).</param>
    /// <param name="training">Informational training settings.</param>
    /// <returns>A new config.</returns>
    /// <exception cref="ArgumentException">When the encoder is of a kind checkpoints cannot describe, or its ContextSize differs from the model's.</exception>
    public static CheckpointConfig Describe(DenoiserModule model, NoiseSchedule schedule, ITextEncoder encoder, IReadOnlyDictionary<string, string>? training = null)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        return Describe(model, SchedulerFactory.OptionsFor(schedule, SamplerKind.Ddim, null), encoder, training);
    }

    /// <summary>Describes <paramref name="model"/>, the training scheduler settings (schedule, prediction type, spacing) and <paramref name="encoder"/> as a config.</summary>
    /// <param name="model">The network; its <see cref="DenoiserModule.DescribeForCheckpoint"/> becomes the <c>model</c> section.</param>
    /// <param name="scheduler">The scheduler options the model was trained with (any sampler can be used later).</param>
    /// <param name="encoder">A <see cref="BagOfWordsEncoder"/>, a <see cref="LearnedTextEncoder"/> or an <see cref="ICheckpointTextEncoder"/>.</param>
    /// <param name="training">Informational training settings.</param>
    /// <returns>A new config.</returns>
    /// <exception cref="ArgumentException">When the encoder is of a kind checkpoints cannot describe, or its ContextSize differs from the model's.</exception>
    public static CheckpointConfig Describe(DenoiserModule model, SchedulerOptions scheduler, ITextEncoder encoder, IReadOnlyDictionary<string, string>? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(encoder);
        if (encoder.ContextSize != model.ContextSize)
        {
            throw new ArgumentException($"The encoder produces {encoder.ContextSize}-dimensional contexts but the model expects {model.ContextSize}.", nameof(encoder));
        }

        var encoderConfig = encoder switch
        {
            BagOfWordsEncoder bow => new CheckpointConfig.TextEncoderConfig
            {
                Type = CheckpointConfig.TextEncoderConfig.BagOfWordsType,
                Vocabulary = bow.Vocabulary.ToList(),
                StopWords = bow.StopWords.Order(StringComparer.Ordinal).ToList(),
            },
            LearnedTextEncoder learned => new CheckpointConfig.TextEncoderConfig
            {
                Type = CheckpointConfig.TextEncoderConfig.LearnedType,
                Vocabulary = learned.Vocabulary.ToList(),
                Dimension = learned.Dimension,
                Pooling = LearnedPoolingNames.ToName(learned.Pooling),
            },
            ICheckpointTextEncoder custom => custom.DescribeForCheckpoint(),
            _ => throw new ArgumentException(
                $"{encoder.GetType().Name} cannot be saved in a checkpoint: use BagOfWordsEncoder, LearnedTextEncoder or an encoder implementing ICheckpointTextEncoder (such as MiniLmTextEncoder).",
                nameof(encoder)),
        };

        return new CheckpointConfig
        {
            Model = model.DescribeForCheckpoint(),
            Scheduler = SchedulerFactory.Validated(scheduler),
            TextEncoder = encoderConfig,
            Training = training?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>Writes the checkpoint folder (created if missing; existing files are replaced atomically).</summary>
    /// <param name="folder">Destination folder.</param>
    /// <param name="model">The network whose weights (its <c>state_dict</c>) are saved.</param>
    /// <param name="config">The configuration; must describe <paramref name="model"/>.</param>
    /// <param name="encoder">
    /// The prompt encoder; required when <c>config.TextEncoder.Type</c> is <c>learned</c> (its weights go to
    /// <see cref="TextEncoderWeightsFileName"/>), ignored otherwise (frozen encoders are described by the config alone).
    /// </param>
    /// <exception cref="ArgumentException">When the config does not describe the model, or a learned config comes without its <see cref="LearnedTextEncoder"/>.</exception>
    public static void Save(string folder, DenoiserModule model, CheckpointConfig config, ITextEncoder? encoder = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if (!Describes(config.Model, model.DescribeForCheckpoint()))
        {
            throw new ArgumentException("config.Model does not describe the model being saved; build it with DiffusionCheckpoint.Describe.", nameof(config));
        }

        LearnedTextEncoder? learned = null;
        if (config.TextEncoder?.Type == CheckpointConfig.TextEncoderConfig.LearnedType)
        {
            learned = encoder as LearnedTextEncoder
                ?? throw new ArgumentException("config.TextEncoder is 'learned': pass the trained LearnedTextEncoder so its weights are saved with the model.", nameof(encoder));
            if (!learned.Vocabulary.SequenceEqual(config.TextEncoder.Vocabulary ?? new List<string>(), StringComparer.Ordinal) || learned.Dimension != config.TextEncoder.Dimension
                || LearnedPoolingNames.ToName(learned.Pooling) != (config.TextEncoder.Pooling ?? LearnedPoolingNames.ToName(TokenPooling.Mean)))
            {
                throw new ArgumentException("config.TextEncoder does not describe the learned encoder being saved; build it with DiffusionCheckpoint.Describe.", nameof(config));
            }
        }

        Directory.CreateDirectory(folder);
        WriteWeights(Path.Combine(folder, WeightsFileName), model);
        if (learned is not null)
        {
            WriteWeights(Path.Combine(folder, TextEncoderWeightsFileName), learned);
        }
        string configPath = Path.Combine(folder, ConfigFileName);
        string temp = configPath + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config, JsonOptions));
        File.Move(temp, configPath, overwrite: true);
    }

    /// <summary>Reads and validates <c>config.json</c> of a checkpoint folder (or of the current checkpoint of a training output folder, see <see cref="CheckpointDirectory.Resolve"/>).</summary>
    /// <remarks>
    /// The file must be a regular file (links to one are fine) of at most <see cref="CheckpointLimits.MaxConfigBytes"/>,
    /// valid UTF-8 JSON with only known fields; <c>format</c>, <c>version</c>, <c>model</c> (all its sizes),
    /// <c>scheduler</c> (at least <c>num_train_timesteps</c>, <c>beta_start</c>, <c>beta_end</c>) and
    /// <c>text_encoder.type</c> are required; every size is checked against <see cref="CheckpointLimits"/> and the
    /// model and scheduler options are validated, all before anything is allocated.
    /// </remarks>
    /// <exception cref="FileNotFoundException">When the file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When the file is not a valid DiffusionKit config; the message names the file and the field.</exception>
    public static CheckpointConfig ReadConfig(string folder) => ReadConfig(folder, DenoiserTypeRegistry.BuiltIn).Config;

    /// <summary>As <see cref="ReadConfig(string)"/>, also knowing the denoiser types <paramref name="denoiserTypes"/> (whose <see cref="DenoiserType.Validate"/> checks their <c>model</c> sections).</summary>
    /// <param name="folder">The checkpoint folder, or a training output folder.</param>
    /// <param name="denoiserTypes">Types besides the built-in <see cref="ContextUnetType"/>.</param>
    /// <returns>The validated config.</returns>
    /// <exception cref="FileNotFoundException">When the file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When the file is not a valid DiffusionKit config or names an unregistered <c>model.type</c>; the message names the file and the field.</exception>
    /// <exception cref="ArgumentException">When two different types in <paramref name="denoiserTypes"/> share a name.</exception>
    public static CheckpointConfig ReadConfig(string folder, IEnumerable<DenoiserType> denoiserTypes)
    {
        ArgumentNullException.ThrowIfNull(denoiserTypes);
        return ReadConfig(folder, new DenoiserTypeRegistry(denoiserTypes)).Config;
    }

    /// <summary>Reads and validates <c>config.json</c>, resolving <c>model.type</c> in <paramref name="registry"/>.</summary>
    internal static (CheckpointConfig Config, DenoiserType Type, DenoiserShape Shape) ReadConfig(string folder, DenoiserTypeRegistry registry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = CheckpointDirectory.Resolve(folder);
        string path = Path.Combine(folder, ConfigFileName);
        if (File.Exists(folder))
        {
            throw new InvalidDataException($"'{folder}' is a file, not a checkpoint folder; pass the folder that holds {ConfigFileName} and {WeightsFileName}.");
        }

        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"Checkpoint folder '{folder}' does not exist. Train one with 'diffusionkit train' or DiffusionCheckpoint.Save.");
        }

        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException($"'{folder}' is not a checkpoint folder: {ConfigFileName} is missing. Train one with 'diffusionkit train' or DiffusionCheckpoint.Save.", path);
        }

        byte[] bytes = CheckpointFileGuard.ReadAllBytes(path, CheckpointLimits.MaxConfigBytes, "the checkpoint configuration");
        var json = bytes.AsSpan();
        if (json.StartsWith("\uFEFF"u8))
        {
            json = json[3..];
        }

        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            throw new InvalidDataException($"'{path}' is not valid UTF-8 text; a checkpoint config is UTF-8 JSON.");
        }

        CheckpointConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<CheckpointConfig>(json, ReadOptions);
        }
        catch (JsonException ex)
        {
            string field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? string.Empty : $" (at field '{ex.Path.TrimStart('$', '.')}')";
            throw new InvalidDataException($"'{path}' is not a valid checkpoint config{field}: {ex.Message}", ex);
        }

        if (config is null || config.Format != CheckpointConfig.FormatName)
        {
            throw new InvalidDataException($"'{path}': field 'format' must be '{CheckpointConfig.FormatName}'.");
        }

        if (config.Version < 1 || config.Version > CheckpointConfig.CurrentVersion)
        {
            throw new InvalidDataException($"'{path}': version {config.Version} is not supported (this library reads 1..{CheckpointConfig.CurrentVersion}); update DiffusionKit.");
        }

        if (config.Model is null)
        {
            throw new InvalidDataException($"'{path}': field 'model' must be an object describing the network.");
        }

        var type = registry.Resolve(config.Model.Type, path);

        if (config.Scheduler is null)
        {
            throw new InvalidDataException($"'{path}': field 'scheduler' is missing; it says how the model was trained (num_train_timesteps, beta_start, beta_end, prediction_type, ...), so it cannot be guessed.");
        }

        if (string.IsNullOrWhiteSpace(config.TextEncoder?.Type))
        {
            throw new InvalidDataException($"'{path}': field 'text_encoder.type' is missing; known types: {KnownEncoderTypes}.");
        }

        if (config.Training is null)
        {
            throw new InvalidDataException($"'{path}': field 'training' must be an object of strings (or be left out).");
        }

        DenoiserShape shape;
        try
        {
            shape = type.Validate(config.Model);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{path}': {ex.Message}", ex);
        }

        CheckImageMode(config, shape, path);
        CheckpointLimits.Check(config, path);
        try
        {
            config.Scheduler.Validate();
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{path}': {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{path}' holds an invalid setting: {ex.Message}", ex);
        }

        return (config, type, shape);
    }

    /// <summary>
    /// <c>training.image_mode</c> (written since 0.x; absent in older files, which keep loading by their
    /// <c>in_channels</c> alone) must agree with the network's channels: <c>L</c> with 1, <c>RGB</c> with 3.
    /// </summary>
    private static void CheckImageMode(CheckpointConfig config, DenoiserShape shape, string path)
    {
        if (!config.Training.TryGetValue(CheckpointConfig.ImageModeKey, out string? name))
        {
            return;
        }

        if (!ImageModeNames.TryParse(name, out ImageMode mode))
        {
            throw new InvalidDataException($"'{path}': training.{CheckpointConfig.ImageModeKey} is '{name}'; allowed values: {ImageModeNames.Allowed}.");
        }

        if ((int)mode != shape.Channels)
        {
            throw new InvalidDataException($"'{path}': training.{CheckpointConfig.ImageModeKey} is '{name}' ({(int)mode} channel{((int)mode == 1 ? string.Empty : "s")}) but the model has {shape.Channels}; the file was edited or written wrongly.");
        }
    }

    /// <summary>
    /// Checks a checkpoint folder without loading it: <c>config.json</c> as <see cref="ReadConfig(string)"/> does, then the
    /// size and header of <c>model.safetensors</c> (and of <c>text_encoder.safetensors</c> for the learned encoder)
    /// against the names, shapes and dtypes the config implies, exactly as <see cref="Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/> checks them first.
    /// </summary>
    /// <param name="folder">The checkpoint folder, or a training output folder (its current checkpoint is checked, see <see cref="CheckpointDirectory.Resolve"/>).</param>
    /// <returns>The validated config.</returns>
    /// <remarks>
    /// Reads only the config and the weights files' headers: no tensor is allocated and libtorch is not loaded, so an
    /// app can refuse a malformed or oversized checkpoint (a 1 KB config declaring a huge network, say) in a fraction
    /// of a second before it starts the native library. The weights' values (NaN, digest) are checked by <see cref="Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>.
    /// </remarks>
    /// <exception cref="FileNotFoundException">When a file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When a file is malformed or does not match the config; the message names the file and the field or tensor.</exception>
    public static CheckpointConfig Validate(string folder) => Validate(folder, DenoiserTypeRegistry.BuiltIn);

    /// <summary>As <see cref="Validate(string)"/>, also knowing the denoiser types <paramref name="denoiserTypes"/> (their <see cref="DenoiserType.ExpectedWeights"/> say what <c>model.safetensors</c> must hold).</summary>
    /// <param name="folder">The checkpoint folder, or a training output folder.</param>
    /// <param name="denoiserTypes">Types besides the built-in <see cref="ContextUnetType"/>.</param>
    /// <returns>The validated config.</returns>
    /// <exception cref="FileNotFoundException">When a file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When a file is malformed, does not match the config, or names an unregistered <c>model.type</c>.</exception>
    /// <exception cref="ArgumentException">When two different types in <paramref name="denoiserTypes"/> share a name.</exception>
    public static CheckpointConfig Validate(string folder, IEnumerable<DenoiserType> denoiserTypes)
    {
        ArgumentNullException.ThrowIfNull(denoiserTypes);
        return Validate(folder, new DenoiserTypeRegistry(denoiserTypes));
    }

    private static CheckpointConfig Validate(string folder, DenoiserTypeRegistry registry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = CheckpointDirectory.Resolve(folder);
        var (config, type, shape) = ReadConfig(folder, registry);
        using (OpenModelWeights(folder, config, type))
        {
        }

        if (config.TextEncoder.Type == CheckpointConfig.TextEncoderConfig.LearnedType)
        {
            using (OpenLearnedEncoderWeights(folder, config, shape))
            {
            }
        }

        return config;
    }

    /// <summary>Loads a checkpoint folder: the model (in eval mode, on the CPU), its schedule and its encoder.</summary>
    /// <param name="folder">The checkpoint folder, or a training output folder (its current checkpoint is loaded, see <see cref="CheckpointDirectory.Resolve"/>).</param>
    /// <param name="encoderFactory">
    /// Creates encoders of types the core does not know (for example <c>MiniLmTextEncoder.FromCheckpointConfig</c> from
    /// DiffusionKit.TextEncoders.MiniLM for <c>minilm</c>); returns null for a type it does not handle. Built-in types
    /// (<c>bag-of-words</c>, <c>learned</c>) never reach it. Null: only built-in types load.
    /// </param>
    /// <returns>The loaded checkpoint; dispose it to free the model and the encoder.</returns>
    /// <remarks>
    /// Files are treated as untrusted. <see cref="ReadConfig(string)"/> checks the config first; then each weights file's
    /// header is checked (regular file, layout, UTF-8) and compared with the names, shapes and dtypes the config
    /// implies, all before any model tensor is allocated (these are the checks <see cref="Validate(string)"/> makes without
    /// loading anything); the model is then built without random initialisation and
    /// filled, and a floating-point tensor holding NaN or infinity is refused naming the tensor. Weights DiffusionKit saved
    /// carry a content digest (<see cref="SafeTensorsFile.DigestMetadataKey"/>), which is verified.
    /// </remarks>
    /// <exception cref="FileNotFoundException">When a file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When a file is corrupt or does not match the config; the message names the file and the field or tensor.</exception>
    /// <exception cref="NotSupportedException">When the checkpoint uses the <c>minilm</c> encoder and no factory was given (the message says which package to add).</exception>
    public static LoadedCheckpoint Load(string folder, Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?>? encoderFactory = null)
        => Load(folder, encoderFactory, DenoiserTypeRegistry.BuiltIn);

    /// <summary>As <see cref="Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>, also knowing the denoiser types <paramref name="denoiserTypes"/>: a checkpoint whose <c>model.type</c> is one of them is checked with its <see cref="DenoiserType.Validate"/> and <see cref="DenoiserType.ExpectedWeights"/> and built with its <see cref="DenoiserType.Create"/>.</summary>
    /// <param name="folder">The checkpoint folder, or a training output folder.</param>
    /// <param name="encoderFactory">Creates encoders of types the core does not know; null: only built-in types load.</param>
    /// <param name="denoiserTypes">Types besides the built-in <see cref="ContextUnetType"/>.</param>
    /// <returns>The loaded checkpoint; dispose it to free the model and the encoder.</returns>
    /// <exception cref="FileNotFoundException">When a file is missing.</exception>
    /// <exception cref="DirectoryNotFoundException">When the folder is missing.</exception>
    /// <exception cref="InvalidDataException">When a file is corrupt, does not match the config, or names an unregistered <c>model.type</c>.</exception>
    /// <exception cref="NotSupportedException">When the checkpoint uses the <c>minilm</c> encoder and no factory was given.</exception>
    /// <exception cref="ArgumentException">When two different types in <paramref name="denoiserTypes"/> share a name.</exception>
    public static LoadedCheckpoint Load(string folder, Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?>? encoderFactory, IEnumerable<DenoiserType> denoiserTypes)
    {
        ArgumentNullException.ThrowIfNull(denoiserTypes);
        return Load(folder, encoderFactory, new DenoiserTypeRegistry(denoiserTypes));
    }

    private static LoadedCheckpoint Load(string folder, Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?>? encoderFactory, DenoiserTypeRegistry registry)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        folder = CheckpointDirectory.Resolve(folder);
        var (config, type, shape) = ReadConfig(folder, registry);
        string configPath = Path.Combine(folder, ConfigFileName);
        NoiseSchedule schedule;
        try
        {
            schedule = new NoiseSchedule(config.Scheduler);
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"'{configPath}': {ex.Message}", ex);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{configPath}' holds an invalid setting: {ex.Message}", ex);
        }

        using var weights = OpenModelWeights(folder, config, type);
        var encoder = LoadEncoder(folder, config, shape, encoderFactory);
        DenoiserModule? model = null;
        try
        {
            if (encoder.ContextSize != shape.ContextSize)
            {
                throw new InvalidDataException($"'{configPath}': the {config.TextEncoder.Type} encoder produces {encoder.ContextSize}-dimensional contexts but the {type.Name} model's context size is {shape.ContextSize}.");
            }

            model = type.Create(config.Model);
            LoadWeights(weights, model);
            model.eval();
            return new LoadedCheckpoint(config, model, schedule, encoder);
        }
        catch
        {
            model?.Dispose();
            (encoder as IDisposable)?.Dispose();
            throw;
        }
    }

    private static readonly JsonSerializerOptions ReadOptions = new()
    {
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        MaxDepth = 16,
    };

    /// <summary>Whether <paramref name="config"/> is the section <paramref name="model"/> describes: the same type and the same settings, in JSON.</summary>
    private static bool Describes(CheckpointConfig.ModelConfig config, CheckpointConfig.ModelConfig model)
    {
        var settings = config.Settings ?? new Dictionary<string, JsonElement>();
        return config.Type == model.Type && settings.Count == model.Settings.Count
            && model.Settings.All(p => settings.TryGetValue(p.Key, out var value) && value.GetRawText() == p.Value.GetRawText());
    }

    private static string KnownEncoderTypes =>
        $"{CheckpointConfig.TextEncoderConfig.BagOfWordsType}, {CheckpointConfig.TextEncoderConfig.LearnedType}, {CheckpointConfig.TextEncoderConfig.MiniLmType} (with DiffusionKit.TextEncoders.MiniLM)";

    private static ITextEncoder LoadEncoder(string folder, CheckpointConfig config, DenoiserShape shape, Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?>? encoderFactory)
    {
        string configPath = Path.Combine(folder, ConfigFileName);
        var settings = config.TextEncoder;
        switch (settings.Type)
        {
            case CheckpointConfig.TextEncoderConfig.BagOfWordsType:
                try
                {
                    return new BagOfWordsEncoder(settings.Vocabulary ?? new List<string>(), settings.StopWords);
                }
                catch (ArgumentException ex)
                {
                    throw new InvalidDataException($"'{configPath}' holds an invalid bag-of-words encoder: {ex.Message}", ex);
                }

            case CheckpointConfig.TextEncoderConfig.LearnedType:
                return LoadLearnedEncoder(folder, config, shape);

            default:
                var custom = encoderFactory?.Invoke(settings);
                if (custom is not null)
                {
                    return custom;
                }

                if (settings.Type == CheckpointConfig.TextEncoderConfig.MiniLmType)
                {
                    throw new NotSupportedException(
                        $"Checkpoint '{folder}' uses the minilm encoder: add the DiffusionKit.TextEncoders.MiniLM package and pass "
                        + "MiniLmTextEncoder.FromCheckpointConfig as the encoderFactory of DiffusionCheckpoint.Load.");
                }

                throw new InvalidDataException(
                    $"'{configPath}': field 'text_encoder.type' is '{settings.Type}', which {(encoderFactory is null ? "is not built in (a custom type needs an encoderFactory passed to DiffusionCheckpoint.Load)" : "the given encoderFactory does not create")}; known types: {KnownEncoderTypes}.");
        }
    }

    private static LearnedTextEncoder LoadLearnedEncoder(string folder, CheckpointConfig config, DenoiserShape shape)
    {
        string configPath = Path.Combine(folder, ConfigFileName);
        var settings = config.TextEncoder;
        using var encoderWeights = OpenLearnedEncoderWeights(folder, config, shape);
        LearnedTextEncoder learned;
        try
        {
            TokenPooling pooling = LearnedPoolingNames.Parse(settings.Pooling)
                ?? throw new InvalidDataException($"'{configPath}': field 'text_encoder.pooling' is '{settings.Pooling}'; known values: {string.Join(", ", LearnedPoolingNames.All)}.");
            learned = new LearnedTextEncoder(settings.Vocabulary ?? new List<string>(), settings.Dimension!.Value, shape.ContextSize, pooling: pooling);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{configPath}' holds an invalid learned encoder: {ex.Message}", ex);
        }

        try
        {
            LoadWeights(encoderWeights, learned);
        }
        catch
        {
            learned.Dispose();
            throw;
        }

        learned.eval();
        return learned;
    }

    /// <summary>Opens <c>model.safetensors</c> after checking its size and header against the network <paramref name="config"/> describes (<paramref name="type"/>'s expected weights).</summary>
    private static CheckedWeights OpenModelWeights(string folder, CheckpointConfig config, DenoiserType type)
    {
        string fields = string.Join(", ", config.Model.Settings.Select(p => $"model.{p.Key} {p.Value.GetRawText()}"));
        string describe = $"the {type.Name} model {ConfigFileName} describes ({fields})";
        return CheckedWeights.Open(Path.Combine(folder, WeightsFileName), $"Checkpoint '{folder}' has no {WeightsFileName}.", "the model weights",
            type.ExpectedWeights(config.Model), describe);
    }

    /// <summary>Opens <c>text_encoder.safetensors</c> after checking its size and header against the learned encoder <paramref name="config"/> describes.</summary>
    private static CheckedWeights OpenLearnedEncoderWeights(string folder, CheckpointConfig config, DenoiserShape shape)
    {
        var settings = config.TextEncoder;
        if (settings.Dimension is not int dimension)
        {
            throw new InvalidDataException($"'{Path.Combine(folder, ConfigFileName)}': field 'text_encoder.dim' is missing; the learned encoder needs its embedding width.");
        }

        string describe = string.Create(CultureInfo.InvariantCulture,
            $"the learned encoder {ConfigFileName} describes ({settings.Vocabulary?.Count ?? 0} words in text_encoder.vocabulary, text_encoder.dim {dimension}, model context size {shape.ContextSize})");
        return CheckedWeights.Open(Path.Combine(folder, TextEncoderWeightsFileName), $"Checkpoint '{folder}' uses the learned encoder but has no {TextEncoderWeightsFileName}.",
            "the learned encoder's weights", CheckpointWeightLayout.ForLearnedEncoder(settings.Vocabulary?.Count ?? 0, dimension, shape.ContextSize), describe);
    }

    private static void LoadWeights(CheckedWeights checkedWeights, TorchSharp.torch.nn.Module module)
    {
        var (stream, path, header, describe) = checkedWeights;
        var weights = SafeTensorsFile.ReadTensors(stream, path, header, rejectNonFinite: true);
        try
        {
            ModuleWeights.Load(module, weights);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{path}' does not fit {describe}: {ex.Message}", ex);
        }
        finally
        {
            foreach (var tensor in weights.Values)
            {
                tensor.Dispose();
            }
        }
    }

    private static void WriteWeights(string path, TorchSharp.torch.nn.Module module)
    {
        var weights = ModuleWeights.Save(module);
        try
        {
            SafeTensorsFile.Write(path, weights, new Dictionary<string, string> { ["format"] = "pt", [SafeTensorsFile.DigestMetadataKey] = SafeTensorsFile.ComputeDigest(weights) });
        }
        finally
        {
            foreach (var tensor in weights.Values)
            {
                tensor.Dispose();
            }
        }
    }
}
