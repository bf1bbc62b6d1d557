using System.Text.Json;
using System.Text.Json.Serialization;
using DiffusionKit.Checkpoints;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// The resumable state of a <see cref="DiffusionTrainer"/> run as two files beside a checkpoint's weights:
/// <c>training_state.safetensors</c> (tensors) and <c>training_state.json</c> (counters and the settings a resume must
/// match).
/// </summary>
/// <remarks>
/// <para>Tensor names in <c>training_state.safetensors</c>:</para>
/// <list type="bullet">
/// <item><c>model/&lt;state_dict name&gt;</c>: the live weights the optimiser updates (float32 masters under bfloat16 training) and buffers;</item>
/// <item><c>encoder/&lt;i&gt;</c>: a trainable text encoder's live parameters, in <see cref="ITrainableTextEncoder.TrainableParameters"/> order;</item>
/// <item><c>adam/&lt;i&gt;/exp_avg</c>, <c>adam/&lt;i&gt;/exp_avg_sq</c>: Adam's moments of optimiser parameter i (the model's, then the encoder's);</item>
/// <item><c>ema/&lt;i&gt;</c>: the EMA shadows, when EMA is on;</item>
/// <item><c>rng/generator</c>: the trainer's generator state; <c>data/order</c>: the current epoch's shuffled order.</item>
/// </list>
/// <para>The weights that <c>model.safetensors</c> holds are the published ones (EMA when on); a resume takes the live
/// weights from here instead, so it continues exactly where the run was.</para>
/// </remarks>
internal static class TrainingStateFile
{
    /// <summary>The format name in <c>training_state.json</c>.</summary>
    public const string FormatName = "diffusionkit-training-state";

    /// <summary>The version this library writes and reads.</summary>
    public const int CurrentVersion = 1;

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    /// <summary>True when <paramref name="folder"/> holds both training-state files.</summary>
    public static bool Exists(string folder) =>
        File.Exists(Path.Combine(folder, DiffusionCheckpoint.TrainingStateFileName)) && File.Exists(Path.Combine(folder, DiffusionCheckpoint.TrainingStateInfoFileName));

    /// <summary>Writes both files into <paramref name="folder"/> (which must exist); each file is replaced atomically.</summary>
    public static void Write(string folder, TrainingStateInfo info, IReadOnlyDictionary<string, Tensor> tensors)
    {
        SafeTensorsFile.Write(Path.Combine(folder, DiffusionCheckpoint.TrainingStateFileName), tensors, new Dictionary<string, string> { ["format"] = FormatName });
        string path = Path.Combine(folder, DiffusionCheckpoint.TrainingStateInfoFileName);
        string temp = Path.Combine(folder, $".{DiffusionCheckpoint.TrainingStateInfoFileName}.{Guid.NewGuid():N}.tmp");
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
        {
            JsonSerializer.Serialize(stream, info, JsonOptions);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>Reads both files of <paramref name="folder"/> (a checkpoint folder, or a training output folder whose newest checkpoint is taken).</summary>
    /// <returns>The counters and the tensors (owned by the caller).</returns>
    /// <exception cref="FileNotFoundException">When the folder has no training state (it was not written by a training run).</exception>
    /// <exception cref="InvalidDataException">When a file is corrupt; the message names it.</exception>
    public static (TrainingStateInfo Info, Dictionary<string, Tensor> Tensors) Read(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string resolved = CheckpointDirectory.Resolve(folder);
        string infoPath = Path.Combine(resolved, DiffusionCheckpoint.TrainingStateInfoFileName);
        string tensorsPath = Path.Combine(resolved, DiffusionCheckpoint.TrainingStateFileName);
        if (!File.Exists(infoPath) || !File.Exists(tensorsPath))
        {
            throw new FileNotFoundException(
                $"'{folder}' holds no training state ({DiffusionCheckpoint.TrainingStateInfoFileName} and {DiffusionCheckpoint.TrainingStateFileName}); only checkpoints written during training ('diffusionkit train', DiffusionTrainer with a checkpoint callback) can be resumed.",
                infoPath);
        }

        TrainingStateInfo? info;
        try
        {
            info = JsonSerializer.Deserialize<TrainingStateInfo>(File.ReadAllText(infoPath));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{infoPath}' is not valid JSON: {ex.Message}", ex);
        }

        if (info is null || info.Format != FormatName)
        {
            throw new InvalidDataException($"'{infoPath}': field 'format' must be '{FormatName}'.");
        }

        if (info.Version != CurrentVersion)
        {
            throw new InvalidDataException($"'{infoPath}': version {info.Version} is not supported (this library reads {CurrentVersion}).");
        }

        if (info.Step < 0 || info.AdamSteps is null || info.EmaUpdates < 0)
        {
            throw new InvalidDataException($"'{infoPath}': 'step', 'adam_steps' and 'ema_updates' must be present and not negative.");
        }

        return (info, SafeTensorsFile.Read(tensorsPath));
    }
}

/// <summary>The counters of a saved training run and the settings a resume must match (<c>training_state.json</c>).</summary>
internal sealed class TrainingStateInfo
{
    [JsonPropertyName("format")]
    public string Format { get; init; } = TrainingStateFile.FormatName;

    [JsonPropertyName("version")]
    public int Version { get; init; } = TrainingStateFile.CurrentVersion;

    /// <summary>Optimiser steps finished.</summary>
    [JsonPropertyName("step")]
    public int Step { get; init; }

    /// <summary>Adam's step count of each optimiser parameter.</summary>
    [JsonPropertyName("adam_steps")]
    public long[] AdamSteps { get; init; } = Array.Empty<long>();

    /// <summary>
    /// The parameter behind each Adam index i (<c>adam/i/…</c>): the model's <c>state_dict</c> name, or <c>encoder/j</c>
    /// for a trainable encoder's parameter j. Written so other trainers (the PyTorch one in <c>python/</c>) map the
    /// moments by name, not by registration order; absent in files written before it (the order is then the model's
    /// <c>named_parameters()</c>, then the encoder's).
    /// </summary>
    [JsonPropertyName("adam_parameters")]
    public string[]? AdamParameters { get; init; }

    /// <summary>The tensor behind each EMA shadow i (<c>ema/i</c>): a <c>state_dict</c> name or <c>encoder/j</c>; absent in older files.</summary>
    [JsonPropertyName("ema_tensors")]
    public string[]? EmaTensors { get; init; }

    [JsonPropertyName("ema_updates")]
    public long EmaUpdates { get; init; }

    [JsonPropertyName("ema_decay")]
    public double EmaDecay { get; init; }

    [JsonPropertyName("loss")]
    public double? Loss { get; init; }

    [JsonPropertyName("average_loss")]
    public double? AverageLoss { get; init; }

    [JsonPropertyName("elapsed_seconds")]
    public double ElapsedSeconds { get; init; }

    [JsonPropertyName("batch_size")]
    public int BatchSize { get; init; }

    [JsonPropertyName("gradient_accumulation_steps")]
    public int GradientAccumulationSteps { get; init; }

    [JsonPropertyName("dataset_count")]
    public int DatasetCount { get; init; }

    [JsonPropertyName("precision")]
    public string Precision { get; init; } = string.Empty;
}
