using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Imaging;
using DiffusionKit.IO;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// The <see cref="TrainingCallbacks.Sample"/> for any <see cref="DenoiserModule"/>: draws each snapshot's published weights (the EMA
/// weights when on) for a fixed list of prompts, so the model's progress can be watched during training.
/// <see cref="Write"/> saves each image as a PNG in a folder per snapshot, <c>step-0000100/</c>; <see cref="Draw"/>
/// returns the images instead, for callers that lay them out themselves (the demo package's <c>TrainingSampleGrid</c>
/// makes one labelled grid PNG of them).
/// </summary>
/// <remarks>
/// Samples with fixed seeds, so the images of different steps are comparable, and exactly as a pipeline built from the
/// finished checkpoint samples: its default sampler and steps (<see cref="PipelineDefaults.DefaultSampler"/> unless given), the
/// library's <see cref="DiffusionSampler"/>, and image i of prompt p drawn from seed <c>seed + p·perPrompt + i</c>, the
/// numbering of a <see cref="GenerationRequest"/> with all the prompts, <c>ImagesPerPrompt = perPrompt</c> and that seed.
/// So any training sample can be reproduced from the checkpoint through the pipeline, the CLI or the server. Not thread-safe.
/// </remarks>
public sealed class TrainingSampleWriter : IDisposable
{
    /// <summary>The name of the file in each snapshot's folder that lists its images and their prompts.</summary>
    public const string ManifestFileName = "manifest.jsonl";

    private readonly SchedulerOptions _scheduler;
    private readonly IReadOnlyList<string> _prompts;
    private readonly int _perPrompt;
    private readonly double _guidance;
    private readonly long _seed;
    private readonly SnapshotModel _copy;

    /// <summary>Creates a writer for one run.</summary>
    /// <param name="folder">Where <see cref="Write"/> puts the snapshots' folders; created when the first is written.</param>
    /// <param name="model">The network being trained (only read: its <see cref="DenoiserModule.DenoiserType"/> builds the copy that receives each snapshot's weights).</param>
    /// <param name="scheduler">The training scheduler settings (schedule and prediction type); sampling uses DPM-Solver++ 2M on them.</param>
    /// <param name="encoder">The prompt encoder being used.</param>
    /// <param name="prompts">The prompts; at least one.</param>
    /// <param name="perPrompt">Images per prompt. Default 4.</param>
    /// <param name="guidance">Classifier-free guidance weight w. Default <see cref="PipelineDefaults.DefaultGuidanceScale"/>.</param>
    /// <param name="seed">Seed of the first image; image i of prompt p uses seed + p·perPrompt + i. Default 0.</param>
    /// <param name="sampler">The sampling algorithm. Default <see cref="PipelineDefaults.DefaultSampler"/>, the pipeline's.</param>
    /// <param name="steps">Denoising steps; null for the sampler's default (<see cref="SchedulerOptions.DefaultInferenceSteps"/>), as the pipeline.</param>
    /// <exception cref="ArgumentException">When there are no prompts or a setting is out of range.</exception>
    public TrainingSampleWriter(string folder, DenoiserModule model, SchedulerOptions scheduler, ITextEncoder encoder, IReadOnlyList<string> prompts, int perPrompt = 4, double guidance = PipelineDefaults.DefaultGuidanceScale, long seed = 0, SamplerKind sampler = PipelineDefaults.DefaultSampler, int? steps = null)
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
        GuidanceRange.ThrowIfOutOfRange(guidance, nameof(guidance));

        Folder = folder;
        _scheduler = scheduler.WithAlgorithm(sampler, steps);
        SchedulerFactory.Validated(_scheduler);
        _prompts = prompts.ToList();
        _perPrompt = perPrompt;
        _guidance = guidance;
        _seed = seed;
        _copy = new SnapshotModel(model, encoder);
    }

    /// <summary>The folder given to the constructor, where <see cref="Write"/> puts the snapshots' folders.</summary>
    public string Folder { get; }

    /// <summary>Draws the prompts with the snapshot's weights.</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <returns>The images, prompt by prompt, with the prompts and the snapshot's step.</returns>
    public TrainingSampleSet Draw(TrainingSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _copy.Load(snapshot);
        var images = new List<RgbImage>();
        using (var scope = NewDisposeScope())
        {
            var unconditional = _copy.Encoder.EncodeUnconditional();
            for (int p = 0; p < _prompts.Count; p++)
            {
                var context = _copy.Encoder.Encode(Enumerable.Repeat(_prompts[p], _perPrompt).ToList());
                var batch = new DiffusionSampler().Sample(_copy.Model, SchedulerFactory.Create(_scheduler), context,
                    new SamplingOptions { ImageSeeds = ImageSeeds.Range(_seed, p * _perPrompt, _perPrompt), GuidanceScale = _guidance, UnconditionalContext = unconditional });
                images.AddRange(ImageTensors.ToRgbImages(batch));
            }
        }

        return new TrainingSampleSet(snapshot.Step, _prompts, _perPrompt, images);
    }

    /// <summary>
    /// Draws the prompts with the snapshot's weights (<see cref="Draw"/>) and writes them into
    /// <c>Folder/step-NNNNNNN/</c>: one PNG per image, <c>pPP-iII.png</c> (prompt index, image index, from 00), and
    /// <c>manifest.jsonl</c>, one line per image: <c>{"file":"p00-i00.png","prompt":"a red circle"}</c>.
    /// </summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <returns>The snapshot's folder.</returns>
    public string Write(TrainingSnapshot snapshot)
    {
        TrainingSampleSet samples = Draw(snapshot);
        string folder = Path.Combine(Folder, CheckpointDirectory.StepFolderName(samples.Step));
        Directory.CreateDirectory(folder);
        var manifest = new StringBuilder();
        for (int p = 0; p < samples.Prompts.Count; p++)
        {
            for (int i = 0; i < samples.PerPrompt; i++)
            {
                string file = FileName(p, i);
                PngEncoder.Save(samples.Image(p, i), Path.Combine(folder, file));
                manifest.Append(new JsonObject { ["file"] = file, ["prompt"] = samples.Prompts[p] }.ToJsonString()).Append('\n');
            }
        }

        AtomicFile.WriteAllBytes(Path.Combine(folder, ManifestFileName), Encoding.UTF8.GetBytes(manifest.ToString()));
        return folder;
    }

    /// <summary>The name <see cref="Write"/> gives image <paramref name="index"/> of prompt <paramref name="prompt"/>: <c>p00-i00.png</c>.</summary>
    /// <param name="prompt">The prompt's index.</param>
    /// <param name="index">The image's index among the prompt's images.</param>
    /// <returns>The file name.</returns>
    public static string FileName(int prompt, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prompt);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return string.Create(CultureInfo.InvariantCulture, $"p{prompt:D2}-i{index:D2}.png");
    }

    /// <summary>Frees the model copy.</summary>
    public void Dispose() => _copy.Dispose();
}
