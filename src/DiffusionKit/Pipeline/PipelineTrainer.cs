using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using DiffusionKit.Training;
using Microsoft.Extensions.Logging;

namespace DiffusionKit.Pipeline;

/// <summary>
/// Trains the model a <see cref="DiffusionPipelineBuilder"/> configured, saves it as a checkpoint and serves it as a
/// pipeline. A thin layer over <see cref="DiffusionTrainer"/> and <see cref="DiffusionCheckpoint"/>.
/// </summary>
/// <remarks>Not thread-safe: do not train while a pipeline from <see cref="CreatePipeline"/> is generating.
/// Disposing the trainer frees the model (when it owns it), which ends every pipeline it created.</remarks>
public sealed class PipelineTrainer : IDisposable
{
    private readonly PipelineComponents _components;
    private readonly ILogger _logger;
    private readonly List<TrainingResult> _runs = new();

    internal PipelineTrainer(PipelineComponents components, DiffusionTrainerOptions options)
    {
        _components = components;
        Options = options;
        _logger = components.LoggerFactory.CreateLogger<PipelineTrainer>();
    }

    /// <summary>The training settings.</summary>
    public DiffusionTrainerOptions Options { get; }

    /// <summary>The network being trained: a <see cref="ContextUnet"/> or the <see cref="DenoiserModule"/> given to <see cref="DiffusionPipelineBuilder.UseModel(DenoiserModule)"/>.</summary>
    public DenoiserModule Model => _components.Model;

    /// <summary>The prompt encoder used for captions.</summary>
    public ITextEncoder Encoder => _components.Encoder;

    /// <summary>The training noise schedule.</summary>
    public NoiseSchedule Schedule => _components.Schedule;

    /// <summary>Trains the model in place on <paramref name="dataset"/>; each call continues from the current weights.</summary>
    /// <param name="dataset">Training pairs; image size and channels must match the model.</param>
    /// <param name="progress">Receives a report after every step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <returns>The run's summary.</returns>
    /// <exception cref="ArgumentException">When the data set does not fit the model or encoder.</exception>
    /// <exception cref="OperationCanceledException">When cancelled.</exception>
    public TrainingResult Train(IImageCaptionDataset dataset, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var result = new DiffusionTrainer(Options).Train(Model, SchedulerFactory.Create(_components.Training), dataset, Encoder, progress, cancellationToken);
        _runs.Add(result);
        PipelineLog.Trained(_logger, result.Steps, result.FinalLoss, result.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>
    /// Trains the model in place on <paramref name="dataset"/> and writes checkpoints into <paramref name="outputFolder"/>:
    /// every <see cref="DiffusionTrainerOptions.SaveEvery"/> steps, when the run ends and when it is cancelled, each a
    /// complete <c>step-NNNNNNN</c> folder made current atomically (the newest <see cref="DiffusionTrainerOptions.KeepCheckpoints"/>
    /// are kept), plus images of <see cref="DiffusionTrainerOptions.SamplePrompts"/> every
    /// <see cref="DiffusionTrainerOptions.SampleEvery"/> steps, one PNG per image in <c>samples/step-NNNNNNN/</c> with a
    /// <c>manifest.jsonl</c> (<see cref="TrainingSampleWriter.Write"/>; the CLI lays them out as one labelled grid PNG
    /// instead, with <see cref="TrainingSampleWriter.Draw"/> and the demo package's <c>TrainingSampleGrid</c>). With <see cref="DiffusionTrainerOptions.ResumeFrom"/> the run
    /// continues a saved one bit for bit. <paramref name="outputFolder"/> loads with
    /// <see cref="DiffusionPipelineBuilder.FromCheckpoint"/> (its current checkpoint).
    /// </summary>
    /// <param name="dataset">Training pairs; image size and channels must match the model.</param>
    /// <param name="outputFolder">The training output folder; created if missing, leftovers of killed writes are removed.</param>
    /// <param name="progress">Receives a report after every step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step; on cancellation a checkpoint of the last finished step is written, then <see cref="OperationCanceledException"/> is thrown.</param>
    /// <returns>The run's summary.</returns>
    /// <exception cref="ArgumentException">When the data set does not fit the model or encoder, or the resumed state does not fit the run.</exception>
    /// <exception cref="NotSupportedException">When the encoder is of a kind checkpoints cannot describe.</exception>
    /// <exception cref="OperationCanceledException">When cancelled.</exception>
    public TrainingResult Train(IImageCaptionDataset dataset, string outputFolder, IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(outputFolder);
        ThrowIfNotDescribable();
        using var checkpoints = new TrainingCheckpointWriter(outputFolder, Model, _components.Training, Encoder, Options.KeepCheckpoints, TrainingInfo());
        using var samples = Options.SampleEvery is null ? null
            : new TrainingSampleWriter(Path.Combine(outputFolder, "samples"), Model, _components.Training, Encoder, Options.SamplePrompts, guidance: _components.Defaults.GuidanceScale, seed: _components.Defaults.Seed, sampler: _components.Defaults.Sampler, steps: _components.Defaults.Steps);
        var callbacks = new TrainingCallbacks { Checkpoint = s => checkpoints.Write(s), Sample = samples is null ? null : s => samples.Write(s) };
        var result = new DiffusionTrainer(Options).Train(Model, SchedulerFactory.Create(_components.Training), dataset, Encoder, callbacks, progress, cancellationToken);
        _runs.Add(result);
        PipelineLog.Trained(_logger, result.Steps, result.FinalLoss, result.Elapsed.TotalSeconds);
        return result;
    }

    /// <summary>Writes the model, schedule and encoder as a checkpoint folder that <see cref="DiffusionPipelineBuilder.FromCheckpoint"/> loads.</summary>
    /// <param name="folder">Destination; created if missing.</param>
    /// <exception cref="NotSupportedException">When the encoder is of a kind checkpoints cannot describe (not a <see cref="BagOfWordsEncoder"/>, <see cref="LearnedTextEncoder"/> or <see cref="ICheckpointTextEncoder"/>).</exception>
    public void SaveCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ThrowIfNotDescribable();
        DiffusionCheckpoint.Save(folder, Model, DiffusionCheckpoint.Describe(Model, _components.Training, Encoder, TrainingInfo()), Encoder);
    }

    private void ThrowIfNotDescribable()
    {
        if (Encoder is not (BagOfWordsEncoder or LearnedTextEncoder or ICheckpointTextEncoder))
        {
            throw new NotSupportedException($"Checkpoints describe a BagOfWordsEncoder, a LearnedTextEncoder or an ICheckpointTextEncoder, but this trainer uses {Encoder.GetType().Name}; implement ICheckpointTextEncoder or use one of those.");
        }
    }

    private Dictionary<string, string> TrainingInfo()
    {
        return new Dictionary<string, string>
        {
            ["runs"] = _runs.Count.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["steps"] = _runs.Sum(r => r.Steps).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["batch_size"] = Options.BatchSize.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["learning_rate"] = Options.LearningRate.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
            ["lr_schedule"] = Options.LearningRateSchedule.ToString().ToLowerInvariant(),
            ["warmup_steps"] = Options.WarmupSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["snr_gamma"] = Options.SnrGamma?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "none",
            ["seed"] = Options.Seed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["gradient_accumulation_steps"] = Options.GradientAccumulationSteps.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["max_grad_norm"] = Options.MaxGradNorm?.ToString("R", System.Globalization.CultureInfo.InvariantCulture) ?? "none",
        };
    }

    /// <summary>A pipeline over the current weights, with the builder's generation defaults. It shares (does not own) the model.</summary>
    /// <returns>A new pipeline; dispose it before or with this trainer.</returns>
    public DiffusionPipeline CreatePipeline() => new(_components with { OwnsModel = false, OwnsEncoder = false });

    /// <summary>Frees the model when this trainer owns it.</summary>
    public void Dispose()
    {
        if (_components.OwnsModel)
        {
            _components.Model.Dispose();
        }
    }
}
