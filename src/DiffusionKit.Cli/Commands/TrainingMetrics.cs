using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.IO;

namespace DiffusionKit.Cli.Commands;

/// <summary>One line of <c>metrics.jsonl</c>.</summary>
/// <param name="Step">Optimiser steps finished (0: the starting weights).</param>
/// <param name="Loss">The smoothed training loss (exponential moving average, 0.98), or null (step 0).</param>
/// <param name="StepLoss">The step's own training loss, or null.</param>
/// <param name="LearningRate">The step's learning rate, or null.</param>
/// <param name="ValidationLoss">The held-out loss of the step's published weights when evaluated, else null.</param>
internal sealed record MetricsRecord(int Step, double? Loss, double? StepLoss, double? LearningRate, double? ValidationLoss)
{
    /// <summary>The fraction of the step's samples the folder's judge assigns to their caption, when measured (<see cref="TrainingQuality"/>).</summary>
    public double? SampleAccuracy { get; init; }

    /// <summary>The feature distance of the step's samples to the validation images, when measured.</summary>
    public double? FeatureDistance { get; init; }

    /// <summary>The record as one JSON line (no newline): <c>{"step":100,"loss":0.1,"step_loss":0.09,"lr":0.002,"validation_loss":0.11}</c>; nulls left out.</summary>
    public string ToJson()
    {
        var json = new JsonObject { ["step"] = Step };
        void Add(string key, double? value)
        {
            if (value is { } v && double.IsFinite(v))
            {
                json[key] = v;
            }
        }

        Add("loss", Loss);
        Add("step_loss", StepLoss);
        Add("lr", LearningRate);
        Add("validation_loss", ValidationLoss);
        Add("sample_accuracy", SampleAccuracy);
        Add("feature_distance", FeatureDistance);
        return json.ToJsonString();
    }

    /// <summary>Parses a line <see cref="ToJson"/> wrote; null for a line that is not one (a torn last line of a killed run).</summary>
    public static MetricsRecord? Parse(string line)
    {
        try
        {
            if (JsonNode.Parse(line) is not JsonObject json || json["step"] is not JsonValue step)
            {
                return null;
            }

            double? Read(string key) => json[key] is JsonValue value ? value.GetValue<double>() : null;
            return new MetricsRecord(step.GetValue<int>(), Read("loss"), Read("step_loss"), Read("lr"), Read("validation_loss"))
            {
                SampleAccuracy = Read("sample_accuracy"),
                FeatureDistance = Read("feature_distance"),
            };
        }
        catch (Exception ex) when (ex is JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}

/// <summary>
/// <c>metrics.jsonl</c> and <c>loss.svg</c> in a training output folder: one JSON line per logged step (appended and
/// flushed line by line, so a killed run loses at most the line being written, which the reader skips), and the loss
/// chart (<see cref="LossChart"/>), rewritten atomically after each validation and when the run ends.
/// </summary>
/// <remarks>
/// A fresh run starts both files over. A resumed run (<c>--resume</c>) continues the file it finds (in the output
/// folder, else in the resumed checkpoint's training folder): at its first record it keeps the lines of the steps the
/// checkpoint had reached (dropping the killed run's later ones and any torn line), rewrites the file atomically and
/// appends from there, so no step is duplicated or lost.
/// </remarks>
internal sealed class TrainingMetrics : IDisposable
{
    /// <summary>The metrics file's name.</summary>
    public const string FileName = "metrics.jsonl";

    /// <summary>The chart's file name.</summary>
    public const string ChartFileName = "loss.svg";

    private readonly string _folder;
    private readonly int _logEvery;
    private readonly List<MetricsRecord> _records = new();
    private List<MetricsRecord>? _earlier;
    private StreamWriter? _writer;
    private MetricsRecord? _pending;
    private int? _firstStep;

    /// <summary>Opens the log of a run writing to <paramref name="folder"/>.</summary>
    /// <param name="folder">The training output folder (<c>--out</c>).</param>
    /// <param name="resumeFrom">The <c>--resume</c> checkpoint, or null for a fresh run.</param>
    /// <param name="logEvery">Steps between training-loss lines (validated steps and the last step are always logged).</param>
    public TrainingMetrics(string folder, string? resumeFrom, int logEvery)
    {
        _folder = folder;
        _logEvery = Math.Max(1, logEvery);
        if (Directory.Exists(folder))
        {
            // Leftovers of atomic writes a killed run did not finish (AtomicFile's "<name>.<pid>.<id>.tmp").
            foreach (string leftover in new[] { FileName, ChartFileName }.SelectMany(name => Directory.EnumerateFiles(folder, name + ".*.tmp")))
            {
                try
                {
                    File.Delete(leftover);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    // Another process may hold it; it is only a leftover.
                }
            }
        }

        if (resumeFrom is not null)
        {
            string resolved = Path.GetFullPath(CheckpointDirectory.Resolve(resumeFrom));
            var candidates = new[] { folder, resolved, Path.GetDirectoryName(resolved) ?? resolved };
            string? existing = candidates.Select(c => Path.Combine(c, FileName)).FirstOrDefault(File.Exists);
            _earlier = existing is null ? new List<MetricsRecord>() : Read(existing).ToList();
        }
    }

    /// <summary>The path of <c>metrics.jsonl</c>.</summary>
    public string MetricsPath => Path.Combine(_folder, FileName);

    /// <summary>The path of <c>loss.svg</c>.</summary>
    public string ChartPath => Path.Combine(_folder, ChartFileName);

    /// <summary>The latest validation loss, or null before the first.</summary>
    public double? LastValidationLoss { get; private set; }

    /// <summary>Reads a metrics file, skipping lines that do not parse.</summary>
    public static IEnumerable<MetricsRecord> Read(string path) =>
        File.ReadAllLines(path).Select(MetricsRecord.Parse).OfType<MetricsRecord>();

    /// <summary>A training step finished (called from the progress report, before that step's validation).</summary>
    public void Step(int step, double averageLoss, double stepLoss, double learningRate)
    {
        _firstStep ??= step;
        if (_pending is { } pending && (pending.Step % _logEvery == 0))
        {
            Write(pending);
        }

        _pending = new MetricsRecord(step, averageLoss, stepLoss, learningRate, null);
    }

    /// <summary>A validation finished at <paramref name="step"/>: logged with that step's training loss, and the chart redrawn.</summary>
    public void Validation(int step, double loss)
    {
        _firstStep ??= step;
        LastValidationLoss = loss;
        if (_pending is { } pending && pending.Step == step)
        {
            Write(pending with { ValidationLoss = loss });
            _pending = null;
        }
        else
        {
            if (_pending is { } earlier)
            {
                Write(earlier);
                _pending = null;
            }

            Write(new MetricsRecord(step, null, null, null, loss));
        }

        WriteChart();
    }

    /// <summary>A sample-quality measurement at <paramref name="step"/>: logged on a line of its own (after that step's other lines), and the chart redrawn.</summary>
    public void Quality(int step, double accuracy, double featureDistance)
    {
        _firstStep ??= step;
        if (_pending is { } pending && pending.Step <= step)
        {
            Write(pending);
            _pending = null;
        }

        Write(new MetricsRecord(step, null, null, null, null) { SampleAccuracy = accuracy, FeatureDistance = featureDistance });
        WriteChart();
    }

    /// <summary>Writes the last step's line (always logged) and the chart; called when the run ends, also on interruption.</summary>
    public void Complete()
    {
        if (_pending is { } pending)
        {
            Write(pending);
            _pending = null;
        }

        if (_writer is not null)
        {
            WriteChart();
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer?.Dispose();

    private void Write(MetricsRecord record)
    {
        if (_writer is null)
        {
            Directory.CreateDirectory(_folder);
            if (_earlier is not null)
            {
                // Resumed: keep the steps before this run's first (those the checkpoint reached), drop the rest.
                int first = _firstStep ?? record.Step;
                _records.AddRange(_earlier.Where(r => r.Step < first));
                var text = new StringBuilder();
                foreach (var kept in _records)
                {
                    text.Append(kept.ToJson()).Append('\n');
                }

                AtomicFile.WriteAllBytes(MetricsPath, Encoding.UTF8.GetBytes(text.ToString()));
                LastValidationLoss = _records.LastOrDefault(r => r.ValidationLoss is not null)?.ValidationLoss ?? LastValidationLoss;
                _earlier = null;
            }
            else
            {
                File.WriteAllBytes(MetricsPath, Array.Empty<byte>());
            }

            _writer = new StreamWriter(new FileStream(MetricsPath, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false)) { NewLine = "\n" };
        }

        _records.Add(record);
        _writer.Write(record.ToJson() + "\n");
        _writer.Flush();
    }

    private void WriteChart() =>
        AtomicFile.WriteAllBytes(ChartPath, Encoding.UTF8.GetBytes(LossChart.Render(_records)));

    /// <summary>The default validation interval: 1/20 of the planned steps (at least 1), or 100 steps when only a time budget bounds the run.</summary>
    internal static int DefaultValidateEvery(int? plannedSteps) =>
        plannedSteps is { } planned ? Math.Max(1, (int)Math.Round(planned / 20.0)) : 100;

    /// <summary>The default training-loss logging interval: every step up to 2,000 planned steps, then about 1,000 lines in all.</summary>
    internal static int DefaultLogEvery(int? plannedSteps) =>
        plannedSteps is { } planned && planned > 2000 ? (int)Math.Ceiling(planned / 1000.0) : 1;

    /// <summary>A number as the logs write it.</summary>
    internal static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
