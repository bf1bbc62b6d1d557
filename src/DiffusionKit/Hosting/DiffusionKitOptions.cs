using DiffusionKit.Pipeline;
using DiffusionKit.Training;

namespace DiffusionKit.Hosting;

/// <summary>
/// Settings of the pipeline that <c>AddDiffusionKit</c> registers, bindable from configuration (section
/// <see cref="SectionName"/>). Validated when the host starts; each error names the option and its allowed values.
/// </summary>
/// <remarks>
/// Either set <see cref="CheckpointPath"/> (the model, schedule and vocabulary come from the checkpoint, and the model
/// and schedule settings here must stay null), or set <see cref="Vocabulary"/> to build a new, untrained model
/// (useful for tests and for training).
/// </remarks>
public sealed class DiffusionKitOptions
{
    /// <summary>The conventional configuration section, <c>"DiffusionKit"</c>.</summary>
    public const string SectionName = "DiffusionKit";

    /// <summary>A checkpoint folder (<c>config.json</c> + <c>model.safetensors</c>) to load. Default null (build a new model from <see cref="Vocabulary"/>).</summary>
    public string? CheckpointPath { get; set; }

    /// <summary>Words of the bag-of-words prompt encoder, when no checkpoint is given. Default empty. Required without a checkpoint; must be empty with one.</summary>
    public IList<string> Vocabulary { get; set; } = new List<string>();

    /// <summary>U-Net width <c>n_feat</c> for a new model; null (default) means 64. A positive multiple of 8.</summary>
    public int? Features { get; set; }

    /// <summary>Image size for a new model; null (default) means 16. A multiple of 4, at least 8.</summary>
    public int? ImageSize { get; set; }

    /// <summary>Image channels for a new model; null (default) means 3. 1 or 3.</summary>
    public int? InChannels { get; set; }

    /// <summary>Training timesteps T of a new model's schedule; null (default) means 500. At least 1.</summary>
    public int? TrainTimesteps { get; set; }

    /// <summary>beta1 of a new model's schedule; null (default) means 1e-4. In (0, 1).</summary>
    public double? BetaStart { get; set; }

    /// <summary>beta2 of a new model's schedule; null (default) means 0.02. In [beta1, 1).</summary>
    public double? BetaEnd { get; set; }

    /// <summary>
    /// Default sampler, case-insensitive: a short name (<c>"dpm-solver-sde"</c>, the default,
    /// <see cref="PipelineDefaults.DefaultSampler"/>; <c>"ddim"</c>, <c>"ddpm"</c>, <c>"dpm-solver"</c>, <c>"euler-a"</c>), a <see cref="SamplerKind"/> name or diffusers' scheduler class name
    /// (see <see cref="Scheduling.SchedulerNames.ParseSampler"/>).
    /// </summary>
    public string Sampler { get; set; } = Scheduling.SchedulerNames.ShortName(PipelineDefaults.DefaultSampler);

    /// <summary>Default denoising steps; null (default) means the sampler's default (<see cref="Scheduling.SchedulerOptions.DefaultInferenceSteps"/>: 25 for DDIM, 20 for the DPM-Solvers and Euler ancestral, at most T; T for DDPM, which allows only T). At least 1.</summary>
    public int? Steps { get; set; }

    /// <summary>
    /// Default classifier-free guidance weight; 0 turns it off. Finite and at least 0. Null (default): the checkpoint's
    /// recommendation (<c>config.json</c> <c>sampling.guidance_scale</c>, which <c>train --data</c> sets to 1), else
    /// <see cref="PipelineDefaults.DefaultGuidanceScale"/> (3).
    /// </summary>
    public double? GuidanceScale { get; set; }

    /// <summary>Default seed (prompt p of a request uses Seed + p); also seeds a new model's weights. Default 0.</summary>
    public long Seed { get; set; } = PipelineDefaults.DefaultSeed;

    /// <summary>Device: <c>"cpu"</c> (default), <c>"cuda"</c> or <c>"cuda:N"</c>. CUDA needs a TorchSharp CUDA backend in the app; for a checked fallback use <see cref="ConfigureBuilder"/> with <c>UseCuda</c>.</summary>
    public string Device { get; set; } = "cpu";

    /// <summary>
    /// The arithmetic the pipeline samples in (<c>DiffusionKit:Precision</c>: <c>Auto</c>, <c>Float32</c> or
    /// <c>BFloat16</c>). Default <see cref="Precision.Auto"/>: measured at start-up, bfloat16 only where it is more than
    /// 5% faster; see <see cref="DiffusionPipelineBuilder.UsePrecision"/>.
    /// </summary>
    public Precision Precision { get; set; } = Precision.Auto;

    /// <summary>TorchSharp CPU threads (process-wide); null (default) leaves TorchSharp's default. At least 1.</summary>
    public int? Threads { get; set; }

    /// <summary>
    /// Batching and limits (<see cref="PipelineLimits"/>: MaxBatchImages, MaxQueueDelay, MaxImagesPerRequest, MaxSteps,
    /// MaxPromptLength, MaxQueuedImages), bound from <c>DiffusionKit:Limits:*</c>. Defaults: <see cref="PipelineLimits"/>'s.
    /// </summary>
    public PipelineLimits Limits { get; set; } = new();

    /// <summary>Runs last on the builder, after the settings above (for example <c>b => b.UseCuda()</c>). Code only; not bound from configuration. Default null.</summary>
    public Action<DiffusionPipelineBuilder>? ConfigureBuilder { get; set; }
}
