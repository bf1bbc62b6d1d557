using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using Microsoft.Extensions.Logging;

namespace DiffusionKit.Pipeline;

/// <summary>What a <see cref="DiffusionPipelineBuilder"/> assembles: the model and everything around it.</summary>
/// <param name="Model">The network (any <see cref="DenoiserModule"/>), in eval mode on its device.</param>
/// <param name="OwnsModel">Whether the receiver disposes <paramref name="Model"/>.</param>
/// <param name="Schedule">The training noise schedule.</param>
/// <param name="Training">The training scheduler settings (schedule, prediction type, spacing) every sampler starts from.</param>
/// <param name="Encoder">The prompt encoder; its ContextSize matches the model.</param>
/// <param name="OwnsEncoder">Whether the receiver disposes <paramref name="Encoder"/> (when it is disposable): true when it was loaded from a checkpoint.</param>
/// <param name="Defaults">Generation defaults.</param>
/// <param name="LoggerFactory">Where logs go.</param>
/// <param name="Limits">Batching and request limits (validated).</param>
/// <param name="Precision">The arithmetic the pipeline samples in.</param>
internal sealed record PipelineComponents(
    DenoiserModule Model,
    bool OwnsModel,
    NoiseSchedule Schedule,
    SchedulerOptions Training,
    ITextEncoder Encoder,
    bool OwnsEncoder,
    PipelineDefaults Defaults,
    ILoggerFactory LoggerFactory,
    PipelineLimits Limits,
    Precision Precision);
