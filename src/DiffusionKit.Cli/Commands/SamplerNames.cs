using DiffusionKit.Scheduling;

namespace DiffusionKit.Cli.Commands;

/// <summary>The CLI's names for the sampling algorithms.</summary>
internal static class SamplerNames
{
    private static readonly (string Name, SchedulerAlgorithm Algorithm)[] Names =
    [
        ("ddim", SchedulerAlgorithm.Ddim),
        ("ddpm", SchedulerAlgorithm.Ddpm),
        ("dpm-solver", SchedulerAlgorithm.DpmSolverMultistep),
        ("euler-a", SchedulerAlgorithm.EulerAncestral),
        ("dpm-solver-sde", SchedulerAlgorithm.DpmSolverMultistepSde),
    ];

    public static string Allowed => string.Join(", ", Names.Select(n => n.Name));

    public static SchedulerAlgorithm Parse(string? text, SchedulerAlgorithm fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        foreach (var (name, algorithm) in Names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
            {
                return algorithm;
            }
        }

        throw new CliUsageException($"--sampler must be one of {Allowed}, not '{text}'.");
    }

    public static string Format(SchedulerAlgorithm algorithm) => Names.First(n => n.Algorithm == algorithm).Name;

    /// <summary>The usual step count: T for DDPM, 25 for DDIM (the course), 20 for the solvers.</summary>
    public static int DefaultSteps(SchedulerAlgorithm algorithm, int trainTimesteps) => algorithm switch
    {
        SchedulerAlgorithm.Ddpm => trainTimesteps,
        SchedulerAlgorithm.Ddim => 25,
        _ => 20,
    };
}
