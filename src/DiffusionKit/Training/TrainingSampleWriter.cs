using System.Globalization;
using DiffusionKit.Imaging;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// The <see cref="TrainingCallbacks.Sample"/> for a context U-Net: draws each snapshot's published weights (the EMA
/// weights when on) for a fixed list of prompts and writes one grid PNG per snapshot, <c>step-0000100.png</c>, so the
/// model's progress can be watched during training.
/// </summary>
/// <remarks>
/// Uses the library's <see cref="DiffusionSampler"/> (DPM-Solver++ 2M, 20 steps, guidance 3 by default) with fixed seeds,
/// so grids of different steps are comparable. Not thread-safe.
/// </remarks>
public sealed class TrainingSampleWriter : IDisposable
{
    private readonly string _folder;
    private readonly SchedulerOptions _scheduler;
    private readonly IReadOnlyList<string> _prompts;
    private readonly int _perPrompt;
    private readonly double _guidance;
    private readonly long _seed;
    private readonly SnapshotModel _copy;

    /// <summary>Creates a writer for one run.</summary>
    /// <param name="folder">Where the grids go; created when the first is written.</param>
    /// <param name="model">The options of the model being trained.</param>
    /// <param name="scheduler">The training scheduler settings (schedule and prediction type); sampling uses DPM-Solver++ 2M on them.</param>
    /// <param name="encoder">The prompt encoder being used.</param>
    /// <param name="prompts">The prompts, one grid row each; at least one.</param>
    /// <param name="perPrompt">Images per prompt (columns). Default 4.</param>
    /// <param name="guidance">Classifier-free guidance scale. Default 3.</param>
    /// <param name="seed">Seed of the first prompt's noise (prompt i uses seed + i). Default 0.</param>
    /// <exception cref="ArgumentException">When there are no prompts or a setting is out of range.</exception>
    public TrainingSampleWriter(string folder, ContextUnetOptions model, SchedulerOptions scheduler, ITextEncoder encoder, IReadOnlyList<string> prompts, int perPrompt = 4, double guidance = 3, long seed = 0)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(prompts);
        if (prompts.Count == 0)
        {
            throw new ArgumentException("Give at least one prompt to draw.", nameof(prompts));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(perPrompt, 1);
        if (!double.IsFinite(guidance) || guidance < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(guidance), guidance, "guidance must be a finite number >= 0.");
        }

        _folder = folder;
        _scheduler = scheduler.WithAlgorithm(SamplerKind.DpmSolverMultistep, 20);
        _prompts = prompts.ToList();
        _perPrompt = perPrompt;
        _guidance = guidance;
        _seed = seed;
        _copy = new SnapshotModel(model, encoder);
    }

    /// <summary>Draws the prompts with the snapshot's weights and writes <c>step-NNNNNNN.png</c>.</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <returns>The PNG written.</returns>
    public string Write(TrainingSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _copy.Load(snapshot);
        var images = new List<RgbImage>();
        var labels = new List<string?>();
        using (var scope = NewDisposeScope())
        {
            var unconditional = _copy.Encoder.EncodeUnconditional();
            for (int p = 0; p < _prompts.Count; p++)
            {
                var context = _copy.Encoder.Encode(Enumerable.Repeat(_prompts[p], _perPrompt).ToList());
                var batch = DiffusionSampler.Instance.Sample(_copy.Model, SchedulerFactory.Create(_scheduler), context,
                    new SamplingOptions { Seed = _seed + p, GuidanceScale = _guidance, UnconditionalContext = unconditional });
                var rgb = ImageTensors.ToRgbImages(batch);
                for (int i = 0; i < rgb.Length; i++)
                {
                    images.Add(rgb[i]);
                    labels.Add(i == 0 ? _prompts[p] : null);
                }
            }
        }

        int size = _copy.Model.ImageSize;
        var grid = ImageGrid.Compose(images, new ImageGridOptions { Columns = _perPrompt, Scale = Math.Max(1, 64 / size), Padding = 2 }, labels);
        Directory.CreateDirectory(_folder);
        string path = Path.Combine(_folder, "step-" + snapshot.Step.ToString("D7", CultureInfo.InvariantCulture) + ".png");
        PngEncoder.Save(grid, path);
        return path;
    }

    /// <summary>Frees the model copy.</summary>
    public void Dispose() => _copy.Dispose();
}
