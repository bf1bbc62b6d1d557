using System.Text.RegularExpressions;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using Microsoft.Extensions.Options;

namespace DiffusionKit.Hosting;

/// <summary>Validates <see cref="DiffusionKitOptions"/> at host start; every failure names the option (<c>DiffusionKit:Name</c>) and its allowed values.</summary>
internal sealed partial class DiffusionKitOptionsValidator : IValidateOptions<DiffusionKitOptions>
{
    private const string Prefix = DiffusionKitOptions.SectionName + ":";

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, DiffusionKitOptions options)
    {
        var failures = new List<string>();
        int? trainTimesteps = null;
        if (!string.IsNullOrWhiteSpace(options.CheckpointPath))
        {
            if (!File.Exists(Path.Combine(CheckpointDirectory.Resolve(options.CheckpointPath), DiffusionCheckpoint.ConfigFileName)))
            {
                failures.Add($"{Prefix}{nameof(options.CheckpointPath)} '{options.CheckpointPath}' is not a checkpoint folder: it has no {DiffusionCheckpoint.ConfigFileName} (nor a training output's {CheckpointDirectory.LatestFileName} checkpoint).");
            }

            if (options.Vocabulary.Count > 0 || options.Features is not null || options.ImageSize is not null || options.InChannels is not null
                || options.TrainTimesteps is not null || options.BetaStart is not null || options.BetaEnd is not null)
            {
                failures.Add($"{Prefix}{nameof(options.CheckpointPath)} is set, so the checkpoint supplies the model, schedule and vocabulary: leave Vocabulary, Features, ImageSize, InChannels, TrainTimesteps, BetaStart and BetaEnd unset.");
            }
        }
        else
        {
            ValidateNewModel(options, failures);
            trainTimesteps = options.TrainTimesteps ?? 500;
        }

        bool knownSampler = SchedulerNames.TryParseSampler(options.Sampler, out var sampler);
        if (!knownSampler)
        {
            failures.Add($"{Prefix}{nameof(options.Sampler)} is '{options.Sampler}'; allowed values: {SchedulerNames.AllowedSamplerNames}.");
        }

        if (options.Steps is { } steps)
        {
            if (steps < 1 || (trainTimesteps is { } t && steps > t))
            {
                failures.Add($"{Prefix}{nameof(options.Steps)} is {steps}; it must lie in 1..{(trainTimesteps?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "T")} (the training timesteps), or be unset for the sampler's default.");
            }
            else if (knownSampler && sampler == SamplerKind.Ddpm && trainTimesteps is { } total && steps != total)
            {
                failures.Add($"{Prefix}{nameof(options.Steps)} is {steps}, but the ddpm sampler walks every training timestep: use {total}, leave it unset, or use the ddim sampler.");
            }
        }

        if (options.GuidanceScale is { } guidance && !GuidanceRange.Contains(guidance))
        {
            failures.Add(GuidanceRange.Describe(Prefix + nameof(options.GuidanceScale), guidance));
        }

        if (options.Device is null || !DevicePattern().IsMatch(options.Device))
        {
            failures.Add($"{Prefix}{nameof(options.Device)} is '{options.Device}'; allowed values: cpu, cuda, cuda:N.");
        }

        if (!Enum.IsDefined(options.Precision))
        {
            failures.Add($"{Prefix}{nameof(options.Precision)} is '{options.Precision}'; allowed values: {string.Join(", ", Enum.GetNames<Training.Precision>())}.");
        }

        if (options.Threads is < 1)
        {
            failures.Add($"{Prefix}{nameof(options.Threads)} is {options.Threads}; it must be at least 1, or unset for TorchSharp's default.");
        }

        try
        {
            (options.Limits ?? throw new ArgumentNullException(nameof(options.Limits), "Limits must not be null.")).Validate();
        }
        catch (ArgumentException ex)
        {
            failures.Add($"{Prefix}{nameof(options.Limits)}:{ex.ParamName}: {ex.Message.Split(" (Parameter")[0]}");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void ValidateNewModel(DiffusionKitOptions options, List<string> failures)
    {
        if (options.Vocabulary.Count == 0)
        {
            failures.Add($"{Prefix}{nameof(options.Vocabulary)} is empty; set {Prefix}{nameof(options.CheckpointPath)} to load a trained model, or list the prompt words to build a new one.");
        }

        var defaults = new ContextUnetOptions();
        var model = new ContextUnetOptions
        {
            Features = options.Features ?? defaults.Features,
            ImageSize = options.ImageSize ?? defaults.ImageSize,
            InChannels = options.InChannels ?? defaults.InChannels,
            ContextSize = Math.Max(options.Vocabulary.Count, 1),
        };
        try
        {
            model.Validate();
        }
        catch (ArgumentOutOfRangeException ex)
        {
            failures.Add($"{Prefix}{ex.ParamName}: {ex.Message.Split(" (Parameter")[0]}");
        }

        if (model.InChannels is not (1 or 3))
        {
            failures.Add($"{Prefix}{nameof(options.InChannels)} is {model.InChannels}; allowed values: 1 (grey) or 3 (RGB).");
        }

        if (options.TrainTimesteps is < 1)
        {
            failures.Add($"{Prefix}{nameof(options.TrainTimesteps)} is {options.TrainTimesteps}; it must be at least 1 (the course uses 500).");
        }

        double betaStart = options.BetaStart ?? 1e-4;
        double betaEnd = options.BetaEnd ?? 0.02;
        if (!(betaStart > 0 && betaStart < 1))
        {
            failures.Add($"{Prefix}{nameof(options.BetaStart)} is {betaStart}; it must lie in (0, 1) (the course uses 1e-4).");
        }

        if (!(betaEnd >= betaStart && betaEnd < 1))
        {
            failures.Add($"{Prefix}{nameof(options.BetaEnd)} is {betaEnd}; it must lie in [BetaStart, 1) (the course uses 0.02).");
        }
    }

    [GeneratedRegex(@"^(cpu|cuda(:\d+)?)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DevicePattern();
}
