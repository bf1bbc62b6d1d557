using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Quality;
using DiffusionKit.IO;
using DiffusionKit.Models;
using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>How <c>train</c> measures sample quality (<c>--quality-images</c>, <c>--quality-every</c>).</summary>
/// <param name="ImagesPerCaption">Images sampled per validation caption in each measurement; at least 1.</param>
/// <param name="Every">Steps between measurements during training, or null for one at the end only.</param>
/// <param name="ChooseGuidance">Whether the end measures <see cref="GuidanceSelection.DefaultCandidates"/> and records the chosen guidance (no <c>--guidance</c> given).</param>
/// <param name="FinalStep">The run's last step when a step count bounds it: the end measures it, so the measurements during training skip it.</param>
internal sealed record QualitySettings(int ImagesPerCaption, int? Every, bool ChooseGuidance, int? FinalStep = null);

/// <summary>
/// <c>train</c>'s sample-quality measurements: a judge trained on the folder's training images
/// (<see cref="SampleQualityEvaluator"/>) scores samples of the validation captions during training (<c>--quality-every</c>)
/// and at the end, where it also chooses the guidance the final checkpoint records (unless <c>--guidance</c> is given).
/// Results go to <c>metrics.jsonl</c> (drawn under the loss in <c>loss.svg</c>) and to <c>quality.json</c>.
/// </summary>
internal sealed class TrainingQuality : IDisposable
{
    /// <summary>The file the end's measurements are written to, in the output folder.</summary>
    public const string FileName = "quality.json";

    private readonly SampleQualityEvaluator _evaluator;
    private readonly QualitySettings _settings;
    private readonly string _folder;
    private readonly double _guidance;
    private readonly TrainingMetrics _metrics;
    private int _lastStep = -1;

    private TrainingQuality(SampleQualityEvaluator evaluator, QualitySettings settings, TrainCommand.Settings run, TrainingMetrics metrics)
    {
        _evaluator = evaluator;
        _settings = settings;
        _folder = run.Output;
        _guidance = run.Guidance;
        _metrics = metrics;
    }

    /// <summary>
    /// For a run with <see cref="TrainCommand.Settings.Quality"/> and held-out images: trains the judge and prints what
    /// it is, or prints why the data has none (captions that are not classes) and returns null; the run then records
    /// its fixed guidance. Measurements are logged to <paramref name="metrics"/>.
    /// </summary>
    public static TrainingQuality? Start(TrainCommand.Settings run, DenoiserModule model, TrainingMetrics metrics, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        if (run.Quality is not { } settings || run.Validation is null)
        {
            return null;
        }

        if (CaptionClassifier.Unsuitable(run.Data) is { } reason)
        {
            Console.WriteLine(string.Create(inv, $"Quality: no judge of samples for this data ({reason}); the checkpoint records guidance {run.Guidance} (--guidance)."));
            return null;
        }

        var clock = Stopwatch.StartNew();
        var evaluator = new SampleQualityEvaluator(model, run.Scheduler, run.Encoder, run.Data, run.Validation, settings.ImagesPerCaption, run.Trainer.Seed, cancellationToken: cancellationToken);
        Console.WriteLine(string.Create(inv, $"Quality: a judge of {evaluator.Classifier.Classes.Count} captions trained on the training images in {clock.Elapsed.TotalSeconds:F0} s recognises {evaluator.ValidationAccuracy:0.000} of the validation images; each measurement samples {evaluator.ImagesPerMeasurement} images ({settings.ImagesPerCaption} per validation caption), whose feature distance to the validation images a perfect model would bring to about {evaluator.RealDistance:0.###} (real training images){(settings.Every is { } every ? $"; measured every {every} steps" : string.Empty)}."));
        return new TrainingQuality(evaluator, settings, run, metrics);
    }

    /// <summary>
    /// At a validation snapshot: measures it at the run's guidance when <c>--quality-every</c> says so, logs it and
    /// returns the line to print, else null. Ctrl+C during the measurement abandons it (null), so the trainer saves its
    /// interrupted checkpoint as usual.
    /// </summary>
    public string? AtValidation(TrainingSnapshot snapshot, CancellationToken cancellationToken)
    {
        if (_settings.Every is not { } every || snapshot.Step == 0 || snapshot.Step == _settings.FinalStep || snapshot.Step / every == _lastStep / every)
        {
            return null;
        }

        _lastStep = snapshot.Step;
        try
        {
            var measured = _evaluator.Measure(snapshot, _guidance, cancellationToken);
            _metrics.Quality(snapshot.Step, measured.Accuracy, measured.FeatureDistance);
            return string.Create(CultureInfo.InvariantCulture, $"quality at step {snapshot.Step}: accuracy {measured.Accuracy:0.000}, feature distance {measured.FeatureDistance:0.###}");
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    /// <summary>
    /// At the completed run's checkpoint: chooses the guidance (or measures the run's when <c>--guidance</c> was
    /// given), records it in <paramref name="sampling"/>, logs the recorded guidance's measurement, writes
    /// <c>quality.json</c> and returns the line to print. Interrupted (Ctrl+C) it leaves <paramref name="sampling"/> as
    /// it is and returns null, so the checkpoint is still written.
    /// </summary>
    public string? AtEnd(TrainingSnapshot snapshot, CheckpointConfig.SamplingConfig sampling, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        try
        {
            var clock = Stopwatch.StartNew();
            IReadOnlyList<SampleQuality> measured;
            SampleQuality recorded;
            string line;
            if (_settings.ChooseGuidance)
            {
                (measured, recorded) = _evaluator.ChooseGuidance(snapshot, cancellationToken: cancellationToken);
                string rule = GuidanceSelection.Describe(measured, recorded);
                sampling.GuidanceWeight = recorded.Guidance;
                sampling.GuidanceSelection = string.Create(inv, $"measured at step {snapshot.Step} on the validation split ({recorded.Images} images, a judge trained on the folder): {rule}");
                line = string.Create(inv, $"Guidance: {rule}; recorded in the checkpoint ({clock.Elapsed.TotalSeconds:F0} s). Real images' feature distance: {_evaluator.RealDistance:0.###}.");
            }
            else
            {
                recorded = _evaluator.Measure(snapshot, _guidance, cancellationToken);
                measured = [recorded];
                line = string.Create(inv, $"Quality at step {snapshot.Step} (guidance {_guidance}, given): accuracy {recorded.Accuracy:0.000}, confidence {recorded.Confidence:0.0000}, feature distance {recorded.FeatureDistance:0.###} (real images: {_evaluator.RealDistance:0.###}).");
            }

            Write(snapshot.Step, measured, recorded);
            _metrics.Quality(snapshot.Step, recorded.Accuracy, recorded.FeatureDistance);
            return line;
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine(string.Create(inv, $"Quality: interrupted; the checkpoint records guidance {sampling.GuidanceWeight}."));
            return null;
        }
    }

    /// <summary>Frees the judge.</summary>
    public void Dispose() => _evaluator.Dispose();

    private void Write(int step, IReadOnlyList<SampleQuality> measured, SampleQuality recorded)
    {
        static JsonObject Row(SampleQuality q) => new() { ["guidance"] = q.Guidance, ["accuracy"] = q.Accuracy, ["confidence"] = q.Confidence, ["feature_distance"] = q.FeatureDistance, ["images"] = q.Images };
        var json = new JsonObject
        {
            ["step"] = step,
            ["judge"] = new JsonObject
            {
                ["what"] = "a small CNN trained on the training images, one class per caption; features: its last hidden layer",
                ["classes"] = _evaluator.Classifier.Classes.Count,
                ["validation_accuracy"] = _evaluator.ValidationAccuracy,
                ["real_feature_distance"] = _evaluator.RealDistance,
                ["images_per_caption"] = _settings.ImagesPerCaption,
                ["captions"] = new JsonArray(_evaluator.Captions.Select(c => (JsonNode)JsonValue.Create(c)!).ToArray()),
            },
            ["measured"] = new JsonArray(measured.Select(m => (JsonNode)Row(m)).ToArray()),
            ["recorded_guidance"] = recorded.Guidance,
            ["guidance_chosen"] = _settings.ChooseGuidance,
        };
        Directory.CreateDirectory(_folder);
        AtomicFile.WriteAllBytes(Path.Combine(_folder, FileName), Encoding.UTF8.GetBytes(json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n"));
    }
}
