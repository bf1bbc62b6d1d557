namespace DiffusionKit.Cli;

/// <summary>Re-parses a command's arguments with extra defaults for options the user did not give (used by demo to drive train).</summary>
internal sealed class CliArgumentsView
{
    public CliArgumentsView(CliArguments original, IReadOnlyDictionary<string, string> defaults)
    {
        var tokens = new List<string>();
        foreach (string name in ForwardedOptions.Union(defaults.Keys).Where(n => n != "out"))
        {
            string? value = original.String(name) ?? (defaults.TryGetValue(name, out var d) ? d : null);
            if (value is not null)
            {
                tokens.Add("--" + name);
                tokens.Add(value);
            }
        }

        tokens.Add("--out");
        tokens.Add(defaults["out"]);
        Arguments = CliArguments.Parse(tokens);
    }

    public CliArguments Arguments { get; }

    /// <summary>The train options a command may pass through (every default given is passed through as well).</summary>
    private static readonly string[] ForwardedOptions =
    [
        "time", "steps", "epochs", "batch", "lr", "lr-schedule", "warmup", "features", "count", "dropout", "ema", "seed", "threads",
        "encoder", "encoder-dim", "prediction", "beta-schedule", "snr-gamma", "hold-out", "precision",
    ];
}
