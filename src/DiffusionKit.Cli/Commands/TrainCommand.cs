using System.CommandLine;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Pipeline;
using System.Globalization;
using DiffusionKit.Checkpoints;
using DiffusionKit.Data;
using DiffusionKit.Quality;
using DiffusionKit.Imaging;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using DiffusionKit.TextEncoders.MiniLM;
using DiffusionKit.Training;
using TorchSharp;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit train</c>: trains a context U-Net or an attention U-Net on shapes, the course's .npy files or an image folder and writes a checkpoint folder.</summary>
internal sealed class TrainCommand : CliCommand
{
    /// <summary>Creates the command with its options and <see cref="TrainingDefaults.Train"/>.</summary>
    public TrainCommand()
        : this(TrainingDefaults.Train)
    {
    }

    /// <summary>Creates the command with <paramref name="defaults"/> (the demo trains through it with its own).</summary>
    internal TrainCommand(TrainingDefaults defaults)
        : base("train", "train a model and write a checkpoint folder", Explanation)
    {
        Training = new TrainingOptions(defaults, ReferenceEquals(defaults, TrainingDefaults.Train) ? TrainingDefaults.Folder : null);
        Add(Out);
        foreach (var option in Data.All.Concat(Training.All))
        {
            Add(option);
        }

        foreach (var option in new Option[] { MaxGradNorm, GradAccum, SaveEvery, Keep, Resume, SampleEvery, SamplePrompts, SamplePromptsFile, Guidance, ValidationSplit, ValidateEvery, QualityImages, QualityEvery })
        {
            Add(option);
        }

        SetAction(Run);
    }

    /// <summary><c>--out &lt;checkpoint-folder&gt;</c>.</summary>
    public Option<string> Out { get; } = CliOptions.RequiredText(
        "--out", "checkpoint-folder", "the folder to write: checkpoints <out>/step-NNNNNNN/ and <out>/latest naming the current one (<out> loads as a checkpoint)");

    /// <summary>The data options.</summary>
    public DataOptions Data { get; } = new();

    /// <summary>The training options shared with the demo.</summary>
    public TrainingOptions Training { get; }

    /// <summary><c>--max-grad-norm X</c>.</summary>
    public Option<double?> MaxGradNorm { get; } = CliOptions.OptionalNumber("--max-grad-norm", "clip the gradients' norm to X (off unless given)", 1e-12, 1e12);

    /// <summary><c>--grad-accum N</c>.</summary>
    public Option<int> GradAccum { get; } = CliOptions.Integer("--grad-accum", "batches whose gradients are accumulated into one optimizer step", 1, 1, 65536);

    /// <summary><c>--save-every N</c>.</summary>
    public Option<int?> SaveEvery { get; } = CliOptions.OptionalInteger("--save-every", "also write a checkpoint every N steps [default: only at the end]", 1);

    /// <summary><c>--keep N</c>.</summary>
    public Option<int> Keep { get; } = CliOptions.Integer("--keep", "step checkpoints kept (the newest)", 3, 1);

    /// <summary><c>--resume &lt;checkpoint&gt;</c>.</summary>
    public Option<string?> Resume { get; } = CliOptions.Text(
        "--resume", "checkpoint", "continue that run bit for bit up to --steps (a total); model, encoder and schedule come from the checkpoint, the other settings default to its own");

    /// <summary><c>--sample-every N</c>.</summary>
    public Option<int?> SampleEvery { get; } = CliOptions.OptionalInteger(
        "--sample-every", "every N steps, write <out>/samples/step-NNNNNNN.png, a grid of the sample prompts from the current (EMA) weights", 1);

    /// <summary><c>--sample-prompts "a,b"</c>.</summary>
    public Option<string?> SamplePrompts { get; } = CliOptions.Text("--sample-prompts", "prompt,...", "the --sample-every prompts, comma-separated");

    /// <summary><c>--guidance X</c>.</summary>
    public Option<double?> Guidance { get; } = CommonOptions.OptionalGuidance(
        "the guidance the checkpoint recommends for sampling (written to config.json as sampling.guidance_scale = w + 1; 'sample' uses it unless given --guidance) and the --sample-every grids use [default: with --data <folder>, the one chosen on the held-out images by --quality-images (1 for the grids, and where there is no judge); else 3]");

    /// <summary><c>--validation-split X</c>.</summary>
    public Option<double> ValidationSplit { get; } = CliOptions.Number(
        "--validation-split", string.Create(CultureInfo.InvariantCulture, $"fraction of the images held out (seeded, never trained on) to measure a validation loss, at least 1 and at most {DatasetSplit.DefaultMaxValidationImages} images; 0: none; with --data <folder>: {DefaultFolderValidationSplit}"), 0, 0, MaxValidationSplit);

    /// <summary><c>--validate-every N</c>.</summary>
    public Option<int?> ValidateEvery { get; } = CliOptions.OptionalInteger(
        "--validate-every", "steps between validation losses (logged to <out>/metrics.jsonl, drawn in <out>/loss.svg) [default: 1/20 of the run]", 1);

    /// <summary><c>--quality-images N</c>.</summary>
    public Option<int?> QualityImages { get; } = CliOptions.OptionalInteger(
        "--quality-images", string.Create(CultureInfo.InvariantCulture, $"images per validation caption in each quality measurement: a judge trained on the training images (one class per caption) scores samples for accuracy and feature distance to the validation images (quality.json, metrics.jsonl), and at the end picks the guidance the checkpoint records unless --guidance is given; 0: none [default: {DefaultQualityImages} with --data <folder>, else 0]"), 0, 1000);

    /// <summary><c>--quality-every N</c>.</summary>
    public Option<int?> QualityEvery { get; } = CliOptions.OptionalInteger(
        "--quality-every", "steps between quality measurements during training, taken at the first validation after each multiple (drawn under the loss in loss.svg) [default: 1/5 of the run, with 100 steps when only a time bounds it]", 1);

    /// <summary>The default <c>--quality-every</c>: 1/5 of the planned steps (at least 1), or 100 steps when only a time budget bounds the run.</summary>
    internal static int DefaultQualityEvery(int? plannedSteps) =>
        plannedSteps is { } planned ? Math.Max(1, (int)Math.Round(planned / 5.0)) : 100;

    /// <summary>The images per caption <c>--quality-images</c> samples by default with an image folder.</summary>
    internal const int DefaultQualityImages = 10;

    /// <summary>The fraction of an image folder <c>--validation-split</c> holds out by default.</summary>
    internal const double DefaultFolderValidationSplit = 0.05;

    /// <summary>The largest <c>--validation-split</c>.</summary>
    internal const double MaxValidationSplit = 0.5;

    /// <summary><c>--sample-prompts-file &lt;file&gt;</c>.</summary>
    public Option<string?> SamplePromptsFile { get; } = CliOptions.Text("--sample-prompts-file", "file", "the --sample-every prompts, one a line");

    private const string Explanation = """
        Ctrl+C or SIGTERM stops training, saves a checkpoint of the last finished step and exits with code 130 or 143.
        --data <folder>: captions from metadata.jsonl ({"file_name", "text"} lines) if present, else a .txt beside each image,
        else the class folder's name; bad files are skipped and listed at the start (--strict fails on the first). Options
        left out take the image-folder defaults each option above names ("with --data <folder>"; docs/training.md).
        --resume: options left out take the run's own settings from the checkpoint's config.json.
        """;

    /// <summary>Settings of one training run, shared with the demo.</summary>
    internal sealed record Settings(
        string Output,
        IImageCaptionDataset Data,
        ITextEncoder Encoder,
        SchedulerOptions Scheduler,
        CheckpointConfig.ModelConfig Model,
        DiffusionTrainerOptions Trainer,
        string DataName,
        double Guidance)
    {
        /// <summary>The held-out images (<c>--validation-split</c>), or null when none are held out.</summary>
        public IImageCaptionDataset? Validation { get; init; }

        /// <summary>The sample-quality measurements (<c>--quality-images</c>), or null for none.</summary>
        public QualitySettings? Quality { get; init; }
    }

    /// <summary>The options <c>--resume</c> takes from the checkpoint's <c>training</c> section when not given, by config key.</summary>
    private IEnumerable<(Option Option, string Key)> ResumeDefaults =>
    [
        (Training.Seed, "seed"), (Training.Count, "images"), (Training.Batch, "batch_size"), (Training.LearningRate, "learning_rate"),
        (Training.LearningRateSchedule, "lr_schedule"), (Training.Warmup, "warmup_steps"), (Training.SnrGamma, "snr_gamma"),
        (Training.Dropout, "context_dropout"), (Training.Ema, "ema_decay"), (Training.Precision, "precision"),
        (GradAccum, "gradient_accumulation_steps"), (MaxGradNorm, "max_grad_norm"),
    ];

    /// <summary>
    /// The settings the options give: reads the data (and, with <c>--resume</c>, the checkpoint), applies the image
    /// folder's or the resumed run's defaults to the options not given, and builds the encoder.
    /// </summary>
    /// <param name="parse">A parse result of this command without errors.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="CliUsageException">When options contradict each other or the data.</exception>
    internal Settings ReadSettings(ParseResult parse)
    {
        string output = parse.GetValue(Out)!;
        string? resume = parse.GetValue(Resume);
        CheckpointConfig? resumed = resume is null ? null : ReadResumeConfig(resume);
        if (resumed is not null)
        {
            parse = ApplyResumeDefaults(parse, resume!, resumed);
        }

        var source = TrainingDataSource.Create(parse, Data, Training);
        bool defaultBudget = false;
        if (source.IsFolder)
        {
            (parse, string? applied, defaultBudget) = TrainingDataSource.ApplyFolderDefaults(parse, Training, source.Dataset.ImageSize, source.Dataset.Count);
            if (applied is not null)
            {
                Console.WriteLine(applied);
            }

            parse = parse.WithDefaults([(ValidationSplit, DefaultFolderValidationSplit.ToString("R", CultureInfo.InvariantCulture))], "image folder defaults");
        }

        IImageCaptionDataset dataset = source.Dataset;
        long seed = parse.GetValue(Training.Seed);
        ITextEncoder encoder = resumed is not null ? ResumeEncoder(resume!) : Training.Encoder.Read(parse) switch
        {
            TrainingOptions.EncoderKind.Learned => LearnedTextEncoder.FromCaptions(
                Enumerable.Range(0, dataset.Count).Select(dataset.GetCaption).Distinct(StringComparer.Ordinal), parse.GetValue(Training.EncoderDim), seed: seed),
            TrainingOptions.EncoderKind.MiniLm => new MiniLmTextEncoder(),
            _ => source.Encoder,
        };

        SchedulerOptions scheduler = resumed?.Scheduler ?? new SchedulerOptions
        {
            Algorithm = SamplerKind.Ddpm,
            PredictionType = Training.Prediction.Read(parse),
            BetaSchedule = Training.BetaSchedule.Read(parse),
        };
        try
        {
            scheduler.Validate();
        }
        catch (Exception ex) when (ex is InvalidDataException or ArgumentException)
        {
            throw new CliUsageException(ex.Message);
        }

        var network = resumed is null ? Training.Model.Read(parse) : TrainableNetworks.Of(resumed.Model, resume!);
        int features = resumed is null ? parse.GetValue(Training.Features) : TrainableNetworks.Sizes(resumed.Model).Features;
        var model = TrainableNetworks.Describe(network, dataset.Channels, features, encoder.ContextSize, dataset.ImageSize);
        // The held-out images: chosen by the seed, so a resumed run (same folder, seed and fraction) holds out the same ones.
        // The encoder above saw every caption (its vocabulary covers the held-out ones too); only the images are held out.
        double validationFraction = parse.GetValue(ValidationSplit);
        DatasetSplit? split = null;
        if (validationFraction > 0)
        {
            if (source.Dataset.Count < 2)
            {
                throw new CliUsageException($"--validation-split {validationFraction.ToString(CultureInfo.InvariantCulture)} needs at least 2 images; the data has {source.Dataset.Count} (use --validation-split 0).");
            }

            split = DatasetSplit.Create(source.Dataset, validationFraction, seed);
            dataset = split.Training;
        }
        else if (parse.IsGiven(ValidateEvery))
        {
            throw new CliUsageException("--validate-every needs held-out images: --validation-split X with X > 0.");
        }

        int? validateEvery = null;
        if (split is not null)
        {
            validateEvery = parse.GetValue(ValidateEvery) ?? TrainingMetrics.DefaultValidateEvery(PlannedSteps(parse, dataset));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Validation: holding out {split.Validation.Count} of {source.Dataset.Count} images (--validation-split {validationFraction}, seed {seed}), never trained on; validation loss every {validateEvery} steps to {TrainingMetrics.FileName} and {TrainingMetrics.ChartFileName}."));
        }

        int qualityImages = parse.GetValue(QualityImages) ?? (source.IsFolder && split is not null ? DefaultQualityImages : 0);
        if (qualityImages > 0 && split is null)
        {
            throw new CliUsageException("--quality-images needs held-out images to compare samples with: --validation-split X with X > 0.");
        }

        if (parse.IsGiven(QualityEvery) && qualityImages == 0)
        {
            throw new CliUsageException("--quality-every needs quality measurements: --quality-images N with N > 0 (the default with --data <folder>).");
        }

        QualitySettings? quality = null;
        if (qualityImages > 0)
        {
            int? planned = PlannedSteps(parse, dataset);
            quality = new QualitySettings(qualityImages, parse.GetValue(QualityEvery) ?? DefaultQualityEvery(planned), ChooseGuidance: parse.GetValue(Guidance) is null, FinalStep: planned);
        }

        var trainer = new DiffusionTrainerOptions
        {
            ValidateEvery = validateEvery,
            Steps = Training.ReadSteps(parse),
            Epochs = parse.GetValue(Training.Epochs),
            MaxDuration = parse.GetValue(Training.Time),
            BatchSize = parse.GetValue(Training.Batch),
            LearningRate = parse.GetValue(Training.LearningRate),
            LearningRateSchedule = Training.LearningRateSchedule.Read(parse),
            WarmupSteps = parse.GetValue(Training.Warmup),
            SnrGamma = parse.GetValue(Training.SnrGamma),
            ContextDropout = parse.GetValue(Training.Dropout),
            EmaDecay = parse.GetValue(Training.Ema),
            Precision = Training.Precision.Read(parse),
            OnPrecisionMeasured = measurement =>
            {
                int imagesPerStep = Math.Min(parse.GetValue(Training.Batch), dataset.Count) * parse.GetValue(GradAccum);
                int? steps = Training.ReadSteps(parse);
                Console.WriteLine(measurement.ToString() + EstimatedTime(measurement, steps, imagesPerStep, quality is null ? "validation" : "validation and the sample-quality measurements"));
                if (defaultBudget && EstimatedSeconds(measurement, steps, imagesPerStep) > SlowDefaultBudgetSeconds)
                {
                    int minutes = (int)(SlowDefaultBudgetSeconds / 60);
                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"note: the folder's default budget is a step count, the same on every machine, and this machine needs more than {minutes} minutes for it; give --time {minutes}m (or fewer --steps) to cap the run, at the cost of a less trained model."));
                }
            },
            OnWarning = warning => Console.Error.WriteLine($"warning: {warning}"),
            Seed = seed,
            MaxGradNorm = parse.GetValue(MaxGradNorm),
            GradientAccumulationSteps = parse.GetValue(GradAccum),
            SaveEvery = parse.GetValue(SaveEvery),
            KeepCheckpoints = parse.GetValue(Keep),
            SampleEvery = parse.GetValue(SampleEvery),
            SamplePrompts = ReadSamplePrompts(parse.GetValue(SamplePrompts), parse.GetValue(SamplePromptsFile)),
            ResumeFrom = resume,
        };

        if (trainer.SampleEvery is not null && trainer.SamplePrompts.Count == 0)
        {
            throw new CliUsageException("--sample-every needs --sample-prompts \"a,b\" or --sample-prompts-file <file> (one prompt a line).");
        }

        if (trainer.SamplePrompts.Count > 0 && trainer.SampleEvery is null)
        {
            throw new CliUsageException("--sample-prompts needs --sample-every N (steps between grids).");
        }

        double guidance = parse.GetValue(Guidance)
            ?? resumed?.Sampling?.GuidanceWeight
            ?? (source.IsFolder ? TrainingDataSource.DefaultGuidance : PipelineDefaults.DefaultGuidanceScale);
        return new Settings(output, dataset, encoder, scheduler, model, trainer, source.Name, guidance) { Validation = split?.Validation, Quality = quality };
    }

    /// <summary>The steps the options plan (<c>--steps</c>, or <c>--epochs</c> over the training images), or null when only a time bounds the run.</summary>
    private int? PlannedSteps(ParseResult parse, IImageCaptionDataset dataset)
    {
        int batchImages = Math.Min(parse.GetValue(Training.Batch), dataset.Count) * parse.GetValue(GradAccum);
        return Training.ReadSteps(parse) ?? (parse.GetValue(Training.Epochs) is { } epochs ? epochs * Math.Max(1, dataset.Count / batchImages) : null);
    }

    private int Run(ParseResult parse)
    {
        if (parse.GetValue(Resume) is { } resume)
        {
            ReadResumeConfig(resume); // a bad checkpoint is refused before libtorch loads
        }

        TorchRuntime.Start(parse.GetValue(Training.Threads));
        var settings = ReadSettings(parse);
        using var cancel = new ConsoleCancellation();
        bool completed = Train(settings, cancel.Token);
        return completed ? ExitCodes.Success : cancel.ExitCode;
    }

    /// <summary>
    /// Checks the options <c>--resume</c> fixes (model, encoder, schedule come from the checkpoint) and gives the
    /// options not given the resumed run's own settings, so <c>train --resume &lt;out&gt; --steps N</c> just continues.
    /// </summary>
    private ParseResult ApplyResumeDefaults(ParseResult parse, string resume, CheckpointConfig resumed)
    {
        var resumedNetwork = TrainableNetworks.Of(resumed.Model, resume);
        var resumedModel = TrainableNetworks.Sizes(resumed.Model);
        if (parse.IsGiven(Training.Model) && Training.Model.Read(parse) != resumedNetwork)
        {
            throw new CliUsageException($"--model {TrainableNetworks.Format(Training.Model.Read(parse))} does not match the checkpoint '{resume}' ({TrainableNetworks.Format(resumedNetwork)}); with --resume the model comes from the checkpoint, leave --model out.");
        }

        if (parse.IsGiven(Training.Features) && parse.GetValue(Training.Features) != resumedModel.Features)
        {
            throw new CliUsageException($"--features {parse.GetValue(Training.Features)} does not match the checkpoint '{resume}' (n_feat {resumedModel.Features}); with --resume the model comes from the checkpoint, leave --features out.");
        }

        foreach (var fixedByCheckpoint in new Option[] { Training.Encoder, Training.EncoderDim, Training.Prediction, Training.BetaSchedule })
        {
            if (parse.IsGiven(fixedByCheckpoint))
            {
                throw new CliUsageException($"{fixedByCheckpoint.Name} cannot be combined with --resume: the model, its text encoder and its schedule come from the checkpoint '{resume}'.");
            }
        }

        var defaults = ResumeDefaults
            .Where(d => resumed.Training.TryGetValue(d.Key, out var value) && value != "none")
            .Select(d => (d.Option, resumed.Training[d.Key]))
            .ToList();
        defaults.Add((Training.Model, TrainableNetworks.Format(resumedNetwork))); // the folder step budget counts the resumed network
        if (parse.GetValue(Data.Data) is not ("shapes" or "npy"))
        {
            // The folder is read in the checkpoint's mode (its channels): a grayscale run continues in grayscale.
            var resumedMode = ImageModeNames.FromChannels(resumedModel.InChannels);
            if (parse.IsGiven(Data.ImageMode) && Data.ReadImageMode(parse) is { } asked && asked != resumedMode)
            {
                throw new CliUsageException($"--image-mode {ImageModeNames.Format(asked)} does not match the checkpoint '{resume}' ({ImageModeNames.Format(resumedMode)}, in_channels {resumedModel.InChannels}); with --resume leave --image-mode out.");
            }

            defaults.Add((Data.ImageMode, ImageModeNames.Format(resumedMode)));
        }

        if (parse.GetValue(Data.Data) == "shapes")
        {
            // The built-in shapes' size comes from the checkpoint too.
            defaults.Add((Data.ImageSize, resumedModel.ImageSize.ToString(CultureInfo.InvariantCulture)));
        }

        return parse.WithDefaults(defaults, $"--resume '{resume}': its config.json's training settings");
    }

    /// <summary>
    /// The estimated training time that follows the precision measurement in the log: the step count times the images per
    /// step over the chosen precision's measured speed (validation and checkpoints come on top; the progress bar's ETA
    /// follows the real speed). Empty without a step count (an <c>--epochs</c> or <c>--time</c> budget). <paramref name="excluded"/> names what comes on top ("validation", or with the folder judge "validation and the sample-quality measurements").
    /// </summary>
    internal static string EstimatedTime(PrecisionMeasurement measurement, int? steps, int imagesPerStep, string excluded = "validation")
    {
        if (EstimatedSeconds(measurement, steps, imagesPerStep) is not { } seconds)
        {
            return string.Empty;
        }

        var eta = TimeSpan.FromSeconds(Math.Round(seconds));
        return string.Create(CultureInfo.InvariantCulture, $"; {steps} steps of {imagesPerStep} images: about {(int)eta.TotalMinutes}:{eta.Seconds:00} min at that speed, before {excluded}");
    }

    /// <summary>Above this estimate a run on the folder's default budget prints how to cap it: the default aims at 10 minutes with sampling.</summary>
    internal const double SlowDefaultBudgetSeconds = 540;

    /// <summary>The seconds <see cref="EstimatedTime"/> states, or null without a step count or a measured speed.</summary>
    internal static double? EstimatedSeconds(PrecisionMeasurement measurement, int? steps, int imagesPerStep)
    {
        double perSecond = measurement.Chosen == Precision.BFloat16 ? measurement.BFloat16ImagesPerSecond : measurement.Float32ImagesPerSecond;
        return steps is { } n && perSecond > 0 ? n * (double)imagesPerStep / perSecond : null;
    }

    /// <summary>Trains, writing checkpoints (periodic, final, on interruption) and sample grids; returns false when interrupted.</summary>
    internal static bool Train(Settings settings, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        using var model = TrainableNetworks.Create(settings.Model, settings.Trainer.Seed);
        var trainer = new DiffusionTrainer(settings.Trainer);
        var options = settings.Trainer;
        int effectiveBatch = Math.Min(options.BatchSize, settings.Data.Count) * options.GradientAccumulationSteps;
        Console.WriteLine(string.Create(inv, $"Training {settings.Model.Type} (n_feat {TrainableNetworks.Sizes(settings.Model).Features}, {model.ImageSize}x{model.ImageSize}, {model.parameters().Sum(p => p.numel())} parameters) on {settings.DataName} ({settings.Data.Count} images), batch {options.BatchSize}{(options.GradientAccumulationSteps > 1 ? $" x {options.GradientAccumulationSteps} accumulated = {effectiveBatch}" : string.Empty)}, {torch.get_num_threads()} threads"));
        if (options.ResumeFrom is { } resume)
        {
            Console.WriteLine($"Resuming from {Path.GetFullPath(CheckpointDirectory.Resolve(resume))}");
        }

        var bar = new ConsoleProgressBar("train");
        using var validator = settings.Validation is null ? null
            : new TrainingValidator(model, SchedulerFactory.Create(settings.Scheduler), settings.Encoder, settings.Validation, options.Seed);
        using var metrics = new TrainingMetrics(settings.Output, options.ResumeFrom, TrainingMetrics.DefaultLogEvery(options.Steps));
        string Validated() => metrics.LastValidationLoss is { } v ? string.Create(inv, $" val {v:F4}") : string.Empty;
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
            metrics.Step(p.Step, p.AverageLoss, p.Loss, p.LearningRate);
            double fraction = p.TotalSteps > 0 ? p.Step / (double)p.TotalSteps : 0;
            if (options.MaxDuration is { } budget)
            {
                fraction = Math.Max(fraction, p.Elapsed / budget);
            }

            // ETA from the steps left at this session's speed; a time budget ends the run sooner when it is nearer.
            string eta = ConsoleProgressBar.FormatEta(p.Elapsed, fraction);
            if (p.TotalSteps > 0 && p.ImagesPerSecond > 0)
            {
                var remaining = TimeSpan.FromSeconds((p.TotalSteps - p.Step) * (double)effectiveBatch / p.ImagesPerSecond);
                if (options.MaxDuration is { } limit && limit - p.Elapsed < remaining)
                {
                    remaining = limit - p.Elapsed;
                }

                eta = ConsoleProgressBar.FormatRemaining(remaining);
            }

            bar.Update(fraction, string.Create(inv, $"step {p.Step}{(p.TotalSteps > 0 ? "/" + p.TotalSteps.ToString(inv) : string.Empty)} loss {p.AverageLoss:F4}{Validated()} {p.ImagesPerSecond:F0} img/s {eta}"));
        });

        var info = new Dictionary<string, string>
        {
            ["data"] = settings.DataName,
            ["images"] = settings.Data.Count.ToString(inv),
            [CheckpointConfig.ImageModeKey] = ImageModeNames.Format(ImageModeNames.FromChannels(settings.Data.Channels)),
            ["batch_size"] = options.BatchSize.ToString(inv),
            ["gradient_accumulation_steps"] = options.GradientAccumulationSteps.ToString(inv),
            ["learning_rate"] = options.LearningRate.ToString("R", inv),
            ["lr_schedule"] = options.LearningRateSchedule.ToString().ToLowerInvariant(),
            ["warmup_steps"] = options.WarmupSteps.ToString(inv),
            ["snr_gamma"] = options.SnrGamma?.ToString("R", inv) ?? "none",
            ["max_grad_norm"] = options.MaxGradNorm?.ToString("R", inv) ?? "none",
            ["ema_decay"] = options.EmaDecay.ToString("R", inv),
            ["context_dropout"] = options.ContextDropout.ToString("R", inv),
            ["precision"] = PrecisionNames.Format(options.Precision),
            ["seed"] = options.Seed.ToString(inv),
        };
        // The final checkpoint's guidance may be chosen on the validation split: the writer holds this object and writes it as it is then.
        var sampling = new CheckpointConfig.SamplingConfig { GuidanceWeight = settings.Guidance };
        using var checkpoints = new TrainingCheckpointWriter(settings.Output, model, settings.Scheduler, settings.Encoder, options.KeepCheckpoints, info)
        {
            Sampling = sampling,
        };
        using var quality = TrainingQuality.Start(settings, model, metrics, cancellationToken);
        using var samples = options.SampleEvery is null ? null
            : new TrainingSampleWriter(Path.Combine(settings.Output, "samples"), model, settings.Scheduler, settings.Encoder, options.SamplePrompts, guidance: settings.Guidance);
        var callbacks = new TrainingCallbacks
        {
            Checkpoint = snapshot =>
            {
                if (snapshot.Reason == TrainingSnapshotReason.Completed && quality?.AtEnd(snapshot, sampling, cancellationToken) is { } line)
                {
                    bar.Note(line);
                }

                string written = checkpoints.Write(snapshot);
                if (snapshot.Reason == TrainingSnapshotReason.Periodic)
                {
                    bar.Note($"checkpoint {Path.GetFileName(written)}");
                }
            },
            Sample = samples is null ? null : snapshot => bar.Note($"samples {Path.GetFileName(TrainingSampleGrid.Save(samples.Draw(snapshot), samples.Folder))}"),
            Validation = validator is null ? null : snapshot =>
            {
                metrics.Validation(snapshot.Step, validator.Evaluate(snapshot));
                if (quality?.AtValidation(snapshot, cancellationToken) is { } line)
                {
                    bar.Note(line);
                }
            },
        };

        bool completed = true;
        try
        {
            var result = trainer.Train(model, SchedulerFactory.Create(settings.Scheduler), settings.Data, settings.Encoder, callbacks, progress, cancellationToken);
            metrics.Complete();
            bar.Complete(string.Create(inv, $"step {result.Steps} loss {result.AverageLoss:F4}{(metrics.LastValidationLoss is { } v ? $" validation loss {v:F4}" : string.Empty)} {result.ImagesPerSecond:F0} img/s in {result.Elapsed.TotalMinutes:F1} min"));
        }
        catch (OperationCanceledException)
        {
            completed = false;
            Console.WriteLine();
            Console.WriteLine(checkpoints.LastWritten is null
                ? "Interrupted before a new step finished: no new checkpoint."
                : "Interrupted: saved a checkpoint of the last finished step.");
        }
        finally
        {
            metrics.Complete();
            (settings.Encoder as IDisposable)?.Dispose();
        }

        if (checkpoints.LastWritten is { } last)
        {
            Console.WriteLine($"Checkpoint written to {Path.GetFullPath(last)} (current checkpoint of {Path.GetFullPath(settings.Output)})");
        }

        if (validator is not null && File.Exists(metrics.ChartPath))
        {
            Console.WriteLine($"Losses: {Path.GetFullPath(metrics.MetricsPath)}, chart {Path.GetFullPath(metrics.ChartPath)}");
        }

        return completed;
    }

    /// <summary>Prompts from <c>--sample-prompts "a,b"</c> or <c>--sample-prompts-file</c> (one a line, blank lines skipped).</summary>
    private static IReadOnlyList<string> ReadSamplePrompts(string? list, string? file)
    {
        if (list is not null && file is not null)
        {
            throw new CliUsageException("Give --sample-prompts or --sample-prompts-file, not both.");
        }

        if (file is not null)
        {
            if (!File.Exists(file))
            {
                throw new CliUsageException($"--sample-prompts-file '{file}' does not exist.");
            }

            var lines = File.ReadAllLines(file).Select(l => l.Trim()).Where(l => l.Length > 0).ToList();
            return lines.Count > 0 ? lines : throw new CliUsageException($"--sample-prompts-file '{file}' has no prompts (one a line).");
        }

        if (list is null)
        {
            return Array.Empty<string>();
        }

        var prompts = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return prompts.Length > 0 ? prompts : throw new CliUsageException("--sample-prompts needs at least one prompt, comma-separated: \"a red circle,a blue square\".");
    }

    /// <summary>The checkpoint's config after <see cref="DiffusionCheckpoint.Validate(string)"/>; a bad checkpoint is a usage error of <c>--resume</c>.</summary>
    private static CheckpointConfig ReadResumeConfig(string resume)
    {
        try
        {
            return DiffusionCheckpoint.Validate(resume);
        }
        catch (Exception ex) when (ex is FileNotFoundException or InvalidDataException)
        {
            throw new CliUsageException($"--resume '{resume}': {ex.Message}");
        }
    }

    private static ITextEncoder ResumeEncoder(string resume)
    {
        var loaded = DiffusionCheckpoint.Load(resume, MiniLmTextEncoder.FromCheckpointConfig);
        loaded.Model.Dispose();
        return loaded.Encoder;
    }
}
