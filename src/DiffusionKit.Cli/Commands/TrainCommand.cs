using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using System.Globalization;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using DiffusionKit.TextEncoders.MiniLM;
using DiffusionKit.Training;
using TorchSharp;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit train</c>: trains a context U-Net on shapes or the course's .npy files and writes a checkpoint folder.</summary>
internal static class TrainCommand
{
    public const string Usage = """
        diffusionkit train --out <checkpoint-folder> [--data shapes|npy|<image-folder>] [--images sprites.npy --labels labels.npy]
                           [--steps 1000 | --epochs N | --time 10m] [--batch 100] [--lr 1e-3] [--lr-schedule linear|cosine|constant] [--warmup 0]
                           [--features 64] [--image-size 16] [--count 24000] [--hold-out "blue triangle,yellow cross"]
                           [--dropout 0.1] [--ema 0] [--seed 0] [--threads N] [--encoder bow|learned|minilm] [--encoder-dim 32] [--precision auto|fp32|bf16]
                           [--prediction epsilon|v_prediction|sample] [--beta-schedule linear|scaled_linear|squaredcos_cap_v2] [--snr-gamma 5]
                           [--max-grad-norm 1.0] [--grad-accum 1] [--save-every N] [--keep 3] [--resume <checkpoint>]
                           [--sample-every N --sample-prompts "a red circle,a blue square" | --sample-prompts-file prompts.txt]
          Writes complete checkpoints <out>/step-NNNNNNN/ (every --save-every steps and at the end; the newest --keep are kept)
          and <out>/latest naming the current one; <out> loads as a checkpoint. --resume continues a run bit for bit up to
          --steps (a total); model, encoder and schedule come from the checkpoint, the other settings default to its own.
          --sample-every writes <out>/samples/step-NNNNNNN.png grids of the sample prompts from the current (EMA) weights.
          Ctrl+C or SIGTERM stops training, saves a checkpoint of the last finished step and exits with code 130 or 143.
        """ + "\n" + TrainingDataSource.Usage;

    /// <summary>
    /// Optimiser steps when no budget is given (--steps, --epochs, --time): a fixed count, so the same command trains the
    /// same model on every machine; only the wall time (the progress bar's ETA) differs.
    /// </summary>
    internal const int DefaultSteps = 1000;

    /// <summary>Settings of one training run, shared with the demo.</summary>
    internal sealed record Settings(
        string Output,
        IImageCaptionDataset Data,
        ITextEncoder Encoder,
        SchedulerOptions Scheduler,
        ContextUnetOptions Model,
        DiffusionTrainerOptions Trainer,
        string DataName);

    /// <summary>Keys of config.json's <c>training</c> section that <c>--resume</c> uses as defaults, by CLI option.</summary>
    private static readonly (string Option, string Key)[] ResumeDefaults =
    [
        ("seed", "seed"), ("count", "images"), ("batch", "batch_size"), ("lr", "learning_rate"), ("lr-schedule", "lr_schedule"),
        ("warmup", "warmup_steps"), ("snr-gamma", "snr_gamma"), ("dropout", "context_dropout"), ("ema", "ema_decay"),
        ("precision", "precision"), ("grad-accum", "gradient_accumulation_steps"), ("max-grad-norm", "max_grad_norm"),
    ];

    public static int Run(CliArguments args)
    {
        var settings = Parse(args);
        args.EnsureAllUsed();
        using var cancel = new ConsoleCancellation();
        bool completed = Train(settings, cancel.Token);
        return completed ? 0 : cancel.ExitCode;
    }

    internal static Settings Parse(CliArguments args)
    {
        string output = args.Required("out", "the checkpoint folder to write");
        string? resume = args.String("resume");
        CheckpointConfig? resumed = resume is null ? null : ReadResumeConfig(resume);
        if (resumed is not null)
        {
            if (args.String("features") is { } features && features != resumed.Model.Features.ToString(CultureInfo.InvariantCulture))
            {
                throw new CliUsageException($"--features {features} does not match the checkpoint '{resume}' (n_feat {resumed.Model.Features}); with --resume the model comes from the checkpoint, leave --features out.");
            }

            foreach (string fixedByCheckpoint in new[] { "encoder", "encoder-dim", "prediction", "beta-schedule" })
            {
                if (args.String(fixedByCheckpoint) is not null)
                {
                    throw new CliUsageException($"--{fixedByCheckpoint} cannot be combined with --resume: the model, its text encoder and its schedule come from the checkpoint '{resume}'.");
                }
            }

            // The built-in shapes' size comes from the checkpoint too.
            args.SetDefault("image-size", resumed.Model.ImageSize.ToString(CultureInfo.InvariantCulture));

            // The run's other settings default to the saved run's, so 'train --resume <out> --steps N' just continues.
            foreach (var (option, key) in ResumeDefaults)
            {
                if (resumed.Training.TryGetValue(key, out var value) && value != "none")
                {
                    args.SetDefault(option, value);
                }
            }
        }

        int? threads = args.OptionalInt("threads", 1, 256);
        if (threads is { } t)
        {
            torch.set_num_threads(t);
        }

        long seed = args.Long("seed", 0);
        var source = TrainingDataSource.Create(args, seed);
        if (source.IsFolder)
        {
            TrainingDataSource.ApplyFolderDefaults(args, source.Dataset.ImageSize);
        }

        IImageCaptionDataset dataset = source.Dataset;
        ITextEncoder encoder = source.Encoder;
        string data = source.Name;

        string encoderName = args.String("encoder") ?? "bow";
        int encoderDim = args.Int("encoder-dim", 32, 1, 4096);
        encoder = encoderName switch
        {
            "bow" => encoder,
            "learned" => LearnedTextEncoder.FromCaptions(Enumerable.Range(0, dataset.Count).Select(dataset.GetCaption).Distinct(StringComparer.Ordinal), encoderDim, seed: seed),
            "minilm" => new MiniLmTextEncoder(),
            _ => throw new CliUsageException($"--encoder must be one of bow, learned, minilm, not '{encoderName}'."),
        };

        if (resumed is not null)
        {
            encoder = ResumeEncoder(resume!);
        }

        SchedulerOptions scheduler;
        try
        {
            scheduler = new SchedulerOptions
            {
                Algorithm = SamplerKind.Ddpm,
                PredictionType = SchedulerNames.ParsePredictionType(args.String("prediction") ?? "epsilon"),
                BetaSchedule = SchedulerNames.ParseBetaSchedule(args.String("beta-schedule") ?? "linear"),
            };
            if (resumed is not null)
            {
                scheduler = resumed.Scheduler;
            }

            scheduler.Validate();
        }
        catch (InvalidDataException ex)
        {
            throw new CliUsageException(ex.Message);
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message);
        }

        var model = new ContextUnetOptions
        {
            Features = resumed?.Model.Features ?? args.Int("features", 64, 8),
            ContextSize = encoder.ContextSize,
            ImageSize = dataset.ImageSize,
            InChannels = dataset.Channels,
        };
        var trainer = new DiffusionTrainerOptions
        {
            Steps = args.Has("steps") || args.Has("epochs") || args.Has("time") ? args.OptionalInt("steps", 1) : DefaultSteps,
            Epochs = args.OptionalInt("epochs", 1),
            MaxDuration = args.Duration("time"),
            BatchSize = args.Int("batch", 100, 1),
            LearningRate = args.Double("lr", 1e-3, 1e-8, 1),
            LearningRateSchedule = args.Enum("lr-schedule", LearningRateSchedule.Linear),
            WarmupSteps = args.Int("warmup", 0, 0),
            SnrGamma = args.OptionalDouble("snr-gamma", 1e-6, 1e6),
            ContextDropout = args.Double("dropout", 0.1, 0, 1),
            EmaDecay = args.Double("ema", 0, 0, 0.999999),
            Precision = PrecisionNames.Parse(args.String("precision")),
            OnPrecisionMeasured = measurement => Console.WriteLine(measurement.ToString()),
            Seed = seed,
            MaxGradNorm = args.OptionalDouble("max-grad-norm", 1e-12, 1e12),
            GradientAccumulationSteps = args.Int("grad-accum", 1, 1, 65536),
            SaveEvery = args.OptionalInt("save-every", 1),
            KeepCheckpoints = args.Int("keep", 3, 1),
            SampleEvery = args.OptionalInt("sample-every", 1),
            SamplePrompts = ParseSamplePrompts(args.String("sample-prompts"), args.String("sample-prompts-file")),
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

        return new Settings(output, dataset, encoder, scheduler, model, trainer, data);
    }

    /// <summary>Trains, writing checkpoints (periodic, final, on interruption) and sample grids; returns false when interrupted.</summary>
    internal static bool Train(Settings settings, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        using var model = new ContextUnet(settings.Model, settings.Trainer.Seed);
        var trainer = new DiffusionTrainer(settings.Trainer);
        var options = settings.Trainer;
        int effectiveBatch = Math.Min(options.BatchSize, settings.Data.Count) * options.GradientAccumulationSteps;
        Console.WriteLine(string.Create(inv, $"Training ContextUnet (n_feat {settings.Model.Features}, {settings.Model.ImageSize}x{settings.Model.ImageSize}, {model.parameters().Sum(p => p.numel())} parameters) on {settings.DataName} ({settings.Data.Count} images), batch {options.BatchSize}{(options.GradientAccumulationSteps > 1 ? $" x {options.GradientAccumulationSteps} accumulated = {effectiveBatch}" : string.Empty)}, {torch.get_num_threads()} threads"));
        if (options.ResumeFrom is { } resume)
        {
            Console.WriteLine($"Resuming from {Path.GetFullPath(CheckpointDirectory.Resolve(resume))}");
        }

        var bar = new ConsoleProgressBar("train");
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
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

            bar.Update(fraction, string.Create(inv, $"step {p.Step}{(p.TotalSteps > 0 ? "/" + p.TotalSteps.ToString(inv) : string.Empty)} loss {p.AverageLoss:F4} {p.ImagesPerSecond:F0} img/s {eta}"));
        });

        var info = new Dictionary<string, string>
        {
            ["data"] = settings.DataName,
            ["images"] = settings.Data.Count.ToString(inv),
            ["batch_size"] = options.BatchSize.ToString(inv),
            ["gradient_accumulation_steps"] = options.GradientAccumulationSteps.ToString(inv),
            ["learning_rate"] = options.LearningRate.ToString("R", inv),
            ["lr_schedule"] = options.LearningRateSchedule.ToString().ToLowerInvariant(),
            ["warmup_steps"] = options.WarmupSteps.ToString(inv),
            ["snr_gamma"] = options.SnrGamma?.ToString("R", inv) ?? "none",
            ["max_grad_norm"] = options.MaxGradNorm?.ToString("R", inv) ?? "none",
            ["ema_decay"] = options.EmaDecay.ToString("R", inv),
            ["context_dropout"] = options.ContextDropout.ToString("R", inv),
            ["precision"] = options.Precision switch { Precision.BFloat16 => "bf16", Precision.Float32 => "fp32", _ => "auto" },
            ["seed"] = options.Seed.ToString(inv),
        };
        using var checkpoints = new TrainingCheckpointWriter(settings.Output, settings.Model, settings.Scheduler, settings.Encoder, options.KeepCheckpoints, info);
        using var samples = options.SampleEvery is null ? null
            : new TrainingSampleWriter(Path.Combine(settings.Output, "samples"), settings.Model, settings.Scheduler, settings.Encoder, options.SamplePrompts);
        var callbacks = new TrainingCallbacks
        {
            Checkpoint = snapshot =>
            {
                string written = checkpoints.Write(snapshot);
                if (snapshot.Reason == TrainingSnapshotReason.Periodic)
                {
                    bar.Note($"checkpoint {Path.GetFileName(written)}");
                }
            },
            Sample = samples is null ? null : snapshot => bar.Note($"samples {Path.GetFileName(TrainingSampleGrid.Save(samples.Draw(snapshot), samples.Folder))}"),
        };

        bool completed = true;
        try
        {
            var result = trainer.Train(model, SchedulerFactory.Create(settings.Scheduler), settings.Data, settings.Encoder, callbacks, progress, cancellationToken);
            bar.Complete(string.Create(inv, $"step {result.Steps} loss {result.AverageLoss:F4} {result.ImagesPerSecond:F0} img/s in {result.Elapsed.TotalMinutes:F1} min"));
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
            (settings.Encoder as IDisposable)?.Dispose();
        }

        if (checkpoints.LastWritten is { } last)
        {
            Console.WriteLine($"Checkpoint written to {Path.GetFullPath(last)} (current checkpoint of {Path.GetFullPath(settings.Output)})");
        }

        return completed;
    }

    /// <summary>Prompts from <c>--sample-prompts "a,b"</c> or <c>--sample-prompts-file</c> (one a line, blank lines skipped).</summary>
    internal static IReadOnlyList<string> ParseSamplePrompts(string? list, string? file)
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

    private static CheckpointConfig ReadResumeConfig(string resume)
    {
        try
        {
            return DiffusionCheckpoint.ReadConfig(resume);
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

    internal static IReadOnlyCollection<(ShapeColor, ShapeKind)> ParseHeldOut(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return Array.Empty<(ShapeColor, ShapeKind)>();
        }

        var result = new List<(ShapeColor, ShapeKind)>();
        foreach (string pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = pair.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2 || !Enum.TryParse(words[0], true, out ShapeColor color) || !Enum.TryParse(words[1], true, out ShapeKind kind)
                || !Enum.IsDefined(color) || !Enum.IsDefined(kind) || int.TryParse(words[0], out _) || int.TryParse(words[1], out _))
            {
                throw new CliUsageException($"--hold-out entries look like 'blue triangle' (colour: {string.Join("/", ShapesCatalog.ColorWords)}; shape: {string.Join("/", ShapesCatalog.KindWords)}), not '{pair}'.");
            }

            result.Add((color, kind));
        }

        return result;
    }
}
