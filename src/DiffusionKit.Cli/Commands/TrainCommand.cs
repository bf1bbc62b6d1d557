using DiffusionKit.Pipeline;
using System.Globalization;
using DiffusionKit.Checkpoints;
using DiffusionKit.Data;
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
                           [--steps N | --epochs N] [--time 10m] [--batch 100] [--lr 1e-3] [--lr-schedule linear|cosine|constant] [--warmup 0]
                           [--features 64] [--image-size 16] [--count 24000] [--hold-out "blue triangle,yellow cross"]
                           [--dropout 0.1] [--ema 0] [--seed 0] [--threads N] [--encoder bow|learned|minilm] [--encoder-dim 32] [--precision auto|fp32|bf16]
                           [--prediction epsilon|v_prediction|sample] [--beta-schedule linear|scaled_linear|squaredcos_cap_v2] [--snr-gamma 5]
          Ctrl+C stops training, saves the checkpoint and exits with code 130.
        """ + "\n" + TrainingDataSource.Usage;

    /// <summary>Settings of one training run, shared with the demo.</summary>
    internal sealed record Settings(
        string Output,
        IImageCaptionDataset Data,
        ITextEncoder Encoder,
        SchedulerOptions Scheduler,
        ContextUnetOptions Model,
        DiffusionTrainerOptions Trainer,
        string DataName);

    public static int Run(CliArguments args)
    {
        var settings = Parse(args);
        args.EnsureAllUsed();
        using var cancel = new ConsoleCancellation();
        bool completed = Train(settings, cancel.Token);
        return completed ? 0 : 130;
    }

    internal static Settings Parse(CliArguments args)
    {
        string output = args.Required("out", "the checkpoint folder to write");
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

        SchedulerOptions scheduler;
        try
        {
            scheduler = new SchedulerOptions
            {
                Algorithm = SamplerKind.Ddpm,
                PredictionType = SchedulerNames.ParsePredictionType(args.String("prediction") ?? "epsilon"),
                BetaSchedule = SchedulerNames.ParseBetaSchedule(args.String("beta-schedule") ?? "linear"),
            };
            scheduler.Validate();
        }
        catch (ArgumentException ex)
        {
            throw new CliUsageException(ex.Message);
        }

        var model = new ContextUnetOptions
        {
            Features = args.Int("features", 64, 8),
            ContextSize = encoder.ContextSize,
            ImageSize = dataset.ImageSize,
            InChannels = dataset.Channels,
        };
        var trainer = new DiffusionTrainerOptions
        {
            Steps = args.OptionalInt("steps", 1),
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
        };
        if (trainer.Steps is null && trainer.Epochs is null && trainer.MaxDuration is null)
        {
            throw new CliUsageException("Give a training budget: --steps, --epochs or --time.");
        }

        return new Settings(output, dataset, encoder, scheduler, model, trainer, data);
    }

    /// <summary>Trains and saves; returns false when interrupted (the checkpoint is saved either way).</summary>
    internal static bool Train(Settings settings, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        using var model = new ContextUnet(settings.Model, settings.Trainer.Seed);
        var trainer = new DiffusionTrainer(settings.Trainer);
        Console.WriteLine(string.Create(inv, $"Training ContextUnet (n_feat {settings.Model.Features}, {settings.Model.ImageSize}x{settings.Model.ImageSize}, {model.parameters().Sum(p => p.numel())} parameters) on {settings.DataName} ({settings.Data.Count} images), batch {settings.Trainer.BatchSize}, {torch.get_num_threads()} threads"));
        var bar = new ConsoleProgressBar("train");
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
            double fraction = p.TotalSteps > 0 ? p.Step / (double)p.TotalSteps : 0;
            if (settings.Trainer.MaxDuration is { } budget)
            {
                fraction = Math.Max(fraction, p.Elapsed / budget);
            }

            bar.Update(fraction, string.Create(inv, $"step {p.Step} loss {p.AverageLoss:F4} {p.ImagesPerSecond:F0} img/s {ConsoleProgressBar.FormatEta(p.Elapsed, fraction)}"));
        });

        bool completed = true;
        TrainingResult? result = null;
        try
        {
            result = trainer.Train(model, SchedulerFactory.Create(settings.Scheduler), settings.Data, settings.Encoder, progress, cancellationToken);
            bar.Complete(string.Create(inv, $"step {result.Steps} loss {result.AverageLoss:F4} {result.ImagesPerSecond:F0} img/s in {result.Elapsed.TotalMinutes:F1} min"));
        }
        catch (OperationCanceledException)
        {
            completed = false;
            Console.WriteLine();
            Console.WriteLine("Interrupted: saving the checkpoint of the last finished step.");
        }

        var info = new Dictionary<string, string>
        {
            ["data"] = settings.DataName,
            ["images"] = settings.Data.Count.ToString(inv),
            ["steps"] = (result?.Steps ?? 0).ToString(inv),
            ["batch_size"] = settings.Trainer.BatchSize.ToString(inv),
            ["learning_rate"] = settings.Trainer.LearningRate.ToString(inv),
            ["lr_schedule"] = settings.Trainer.LearningRateSchedule.ToString().ToLowerInvariant(),
            ["warmup_steps"] = settings.Trainer.WarmupSteps.ToString(inv),
            ["snr_gamma"] = settings.Trainer.SnrGamma?.ToString(inv) ?? "none",
            ["ema_decay"] = settings.Trainer.EmaDecay.ToString(inv),
            ["context_dropout"] = settings.Trainer.ContextDropout.ToString(inv),
            ["seed"] = settings.Trainer.Seed.ToString(inv),
            ["final_loss"] = (result?.AverageLoss ?? double.NaN).ToString(inv),
            ["completed"] = completed ? "true" : "false",
        };
        DiffusionCheckpoint.Save(settings.Output, model, DiffusionCheckpoint.Describe(model, settings.Scheduler, settings.Encoder, info), settings.Encoder);
        (settings.Encoder as IDisposable)?.Dispose();
        Console.WriteLine($"Checkpoint written to {Path.GetFullPath(settings.Output)}");
        return completed;
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
