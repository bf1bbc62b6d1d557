using System.Globalization;
using System.Text.Json;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// Saves and loads a checkpoint folder: <c>config.json</c> (<see cref="CheckpointConfig"/>) and
/// <c>model.safetensors</c> (the U-Net's <c>state_dict</c> under PyTorch-compatible names).
/// </summary>
/// <remarks>Each file is written atomically (temporary file, then rename), so a crash never leaves a half-written file.</remarks>
public static class DiffusionCheckpoint
{
    /// <summary>The configuration file name.</summary>
    public const string ConfigFileName = "config.json";

    /// <summary>The weights file name.</summary>
    public const string WeightsFileName = "model.safetensors";

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>Describes <paramref name="model"/>, <paramref name="schedule"/> and <paramref name="encoder"/> as a config.</summary>
    public static CheckpointConfig Describe(ContextUnet model, NoiseSchedule schedule, BagOfWordsEncoder encoder, IReadOnlyDictionary<string, string>? training = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(schedule);
        ArgumentNullException.ThrowIfNull(encoder);
        return new CheckpointConfig
        {
            Model = new CheckpointConfig.ModelConfig
            {
                InChannels = model.Options.InChannels,
                Features = model.Options.Features,
                ContextSize = model.Options.ContextSize,
                ImageSize = model.Options.ImageSize,
            },
            Scheduler = new CheckpointConfig.ScheduleConfig { TrainTimesteps = schedule.TrainTimesteps, BetaStart = schedule.BetaStart, BetaEnd = schedule.BetaEnd },
            TextEncoder = new CheckpointConfig.TextEncoderConfig { Vocabulary = encoder.Vocabulary.ToList(), StopWords = encoder.StopWords.Order(StringComparer.Ordinal).ToList() },
            Training = training?.ToDictionary(p => p.Key, p => p.Value) ?? new Dictionary<string, string>(),
        };
    }

    /// <summary>Writes the checkpoint folder (created if missing; existing files are replaced atomically).</summary>
    /// <param name="folder">Destination folder.</param>
    /// <param name="model">The network whose weights are saved.</param>
    /// <param name="config">The configuration; must describe <paramref name="model"/>.</param>
    public static void Save(string folder, ContextUnet model, CheckpointConfig config)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(config);
        if (config.Model.Features != model.Options.Features || config.Model.ContextSize != model.Options.ContextSize
            || config.Model.ImageSize != model.Options.ImageSize || config.Model.InChannels != model.Options.InChannels)
        {
            throw new ArgumentException("config.Model does not describe the model being saved; build it with DiffusionCheckpoint.Describe.", nameof(config));
        }

        Directory.CreateDirectory(folder);
        SafeTensorsFile.Write(Path.Combine(folder, WeightsFileName), ModuleWeights.Save(model), new Dictionary<string, string> { ["format"] = "pt" });
        string configPath = Path.Combine(folder, ConfigFileName);
        string temp = configPath + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(config, JsonOptions));
        File.Move(temp, configPath, overwrite: true);
    }

    /// <summary>Reads and validates <c>config.json</c> of a checkpoint folder.</summary>
    /// <exception cref="FileNotFoundException">When the folder or file is missing.</exception>
    /// <exception cref="InvalidDataException">When the file is not a valid DiffusionKit config; the message names the field.</exception>
    public static CheckpointConfig ReadConfig(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string path = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"'{folder}' is not a checkpoint folder: {ConfigFileName} is missing. Train one with 'diffusionkit train' or DiffusionCheckpoint.Save.", path);
        }

        CheckpointConfig? config;
        try
        {
            config = JsonSerializer.Deserialize<CheckpointConfig>(File.ReadAllText(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }

        if (config is null || config.Format != CheckpointConfig.FormatName)
        {
            throw new InvalidDataException($"'{path}': field 'format' must be '{CheckpointConfig.FormatName}'.");
        }

        if (config.Version < 1 || config.Version > CheckpointConfig.CurrentVersion)
        {
            throw new InvalidDataException($"'{path}': version {config.Version} is not supported (this library reads 1..{CheckpointConfig.CurrentVersion}); update DiffusionKit.");
        }

        if (config.Model?.Type != "ContextUnet")
        {
            throw new InvalidDataException($"'{path}': field 'model.type' is '{config.Model?.Type}'; the only known model type is 'ContextUnet'.");
        }

        if (config.TextEncoder?.Type != "bag-of-words")
        {
            throw new InvalidDataException($"'{path}': field 'text_encoder.type' is '{config.TextEncoder?.Type}'; known types: bag-of-words.");
        }

        if (config.Scheduler is null)
        {
            throw new InvalidDataException($"'{path}': field 'scheduler' is missing.");
        }

        return config;
    }

    /// <summary>Loads a checkpoint folder: the model (in eval mode, on the CPU), its schedule and its encoder.</summary>
    /// <exception cref="FileNotFoundException">When a file is missing.</exception>
    /// <exception cref="InvalidDataException">When a file is corrupt or does not match the config; the message says which.</exception>
    public static LoadedCheckpoint Load(string folder)
    {
        var config = ReadConfig(folder);
        string configPath = Path.Combine(folder, ConfigFileName);
        ContextUnetOptions options;
        NoiseSchedule schedule;
        BagOfWordsEncoder encoder;
        try
        {
            options = new ContextUnetOptions { InChannels = config.Model.InChannels, Features = config.Model.Features, ContextSize = config.Model.ContextSize, ImageSize = config.Model.ImageSize };
            options.Validate();
            schedule = new NoiseSchedule(config.Scheduler.TrainTimesteps, config.Scheduler.BetaStart, config.Scheduler.BetaEnd);
            encoder = new BagOfWordsEncoder(config.TextEncoder.Vocabulary ?? new List<string>(), config.TextEncoder.StopWords);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{configPath}' holds an invalid setting: {ex.Message}", ex);
        }

        if (encoder.ContextSize != options.ContextSize)
        {
            throw new InvalidDataException($"'{configPath}': the vocabulary has {encoder.ContextSize} words but model.n_cfeat is {options.ContextSize}.");
        }

        string weightsPath = Path.Combine(folder, WeightsFileName);
        if (!File.Exists(weightsPath))
        {
            throw new FileNotFoundException($"Checkpoint '{folder}' has no {WeightsFileName}.", weightsPath);
        }

        var model = new ContextUnet(options, seed: 0);
        try
        {
            var weights = SafeTensorsFile.Read(weightsPath);
            try
            {
                ModuleWeights.Load(model, weights);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"'{weightsPath}' does not fit the model described by {ConfigFileName}: {ex.Message}", ex);
            }
            finally
            {
                foreach (var tensor in weights.Values)
                {
                    tensor.Dispose();
                }
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }

        model.eval();
        return new LoadedCheckpoint(config, model, schedule, encoder);
    }
}
