using System.Globalization;

namespace DiffusionKit.Cli;

/// <summary>Parsed <c>--name value</c> options and flags of one command; every lookup is recorded so unknown options can be reported.</summary>
internal sealed class CliArguments
{
    private readonly Dictionary<string, List<string>> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);
    private readonly HashSet<string> _known = new(StringComparer.Ordinal);

    private CliArguments()
    {
    }

    /// <summary>Parses <c>--key value</c>, <c>--key=value</c> and bare <c>--flag</c> tokens.</summary>
    public static CliArguments Parse(IReadOnlyList<string> args)
    {
        var parsed = new CliArguments();
        for (int i = 0; i < args.Count; i++)
        {
            string token = args[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length < 3)
            {
                throw new CliUsageException($"Unexpected argument '{token}'; options look like --name value.");
            }

            string name = token[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            if (value is null)
            {
                parsed._flags.Add(name);
            }
            else
            {
                if (!parsed._values.TryGetValue(name, out var list))
                {
                    parsed._values[name] = list = new List<string>();
                }

                list.Add(value);
            }
        }

        return parsed;
    }

    public bool Flag(string name)
    {
        _known.Add(name);
        if (_values.ContainsKey(name))
        {
            throw new CliUsageException($"--{name} is a flag and takes no value.");
        }

        return _flags.Contains(name);
    }

    public string? String(string name)
    {
        _known.Add(name);
        if (_flags.Contains(name))
        {
            throw new CliUsageException($"--{name} needs a value.");
        }

        return _values.TryGetValue(name, out var list) ? list[^1] : null;
    }

    public IReadOnlyList<string> Strings(string name)
    {
        _known.Add(name);
        return _values.TryGetValue(name, out var list) ? list : Array.Empty<string>();
    }

    public string Required(string name, string what) => String(name) ?? throw new CliUsageException($"--{name} is required: {what}.");

    public int Int(string name, int fallback, int min = int.MinValue, int max = int.MaxValue)
    {
        string? text = String(name);
        if (text is null)
        {
            return fallback;
        }

        if (!int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new CliUsageException($"--{name} must be an integer in {min}..{max}, not '{text}'.");
        }

        return value;
    }

    public int? OptionalInt(string name, int min = int.MinValue, int max = int.MaxValue)
        => String(name) is null ? null : Int(name, 0, min, max);

    public long Long(string name, long fallback)
    {
        string? text = String(name);
        if (text is null)
        {
            return fallback;
        }

        return long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new CliUsageException($"--{name} must be an integer, not '{text}'.");
    }

    public double? OptionalDouble(string name, double min = double.MinValue, double max = double.MaxValue)
        => String(name) is null ? null : Double(name, 0, min, max);

    public double Double(string name, double fallback, double min = double.MinValue, double max = double.MaxValue)
    {
        string? text = String(name);
        if (text is null)
        {
            return fallback;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < min || value > max)
        {
            throw new CliUsageException($"--{name} must be a number in [{min.ToString(CultureInfo.InvariantCulture)}, {max.ToString(CultureInfo.InvariantCulture)}], not '{text}'.");
        }

        return value;
    }

    /// <summary>Parses a duration such as <c>90s</c>, <c>10m</c>, <c>1.5h</c> or <c>00:10:00</c>.</summary>
    public TimeSpan? Duration(string name)
    {
        string? text = String(name);
        if (text is null)
        {
            return null;
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && text.Contains(':', StringComparison.Ordinal))
        {
            return span > TimeSpan.Zero ? span : throw new CliUsageException($"--{name} must be positive.");
        }

        char unit = text.Length > 0 ? text[^1] : ' ';
        double factor = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        if (factor > 0 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && amount > 0)
        {
            return TimeSpan.FromSeconds(amount * factor);
        }

        throw new CliUsageException($"--{name} must be a duration like 90s, 10m, 1.5h or 00:10:00, not '{text}'.");
    }

    public T Enum<T>(string name, T fallback)
        where T : struct, System.Enum
    {
        string? text = String(name);
        if (text is null)
        {
            return fallback;
        }

        string normalized = text.Replace("-", string.Empty, StringComparison.Ordinal).Replace("_", string.Empty, StringComparison.Ordinal);
        return System.Enum.TryParse(normalized, ignoreCase: true, out T value) && System.Enum.IsDefined(value) && !int.TryParse(text, out _)
            ? value
            : throw new CliUsageException($"--{name} must be one of {string.Join(", ", System.Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}, not '{text}'.");
    }

    /// <summary>Gives option <paramref name="name"/> the value <paramref name="value"/> unless the user gave it (a default that depends on other options, such as the data).</summary>
    public void SetDefault(string name, string value)
    {
        if (!_values.ContainsKey(name) && !_flags.Contains(name))
        {
            _values[name] = new List<string> { value };
            _known.Add(name);
        }
    }

    /// <summary>Whether the user gave option or flag <paramref name="name"/> (does not count as reading it).</summary>
    public bool Has(string name) => _values.ContainsKey(name) || _flags.Contains(name);

    /// <summary>A sampler name (<see cref="Scheduling.SchedulerNames.ParseSampler"/>: ddim, ddpm, dpm-solver, euler-a, dpm-solver-sde, ...), or <paramref name="fallback"/> when absent.</summary>
    public SamplerKind Sampler(string name, SamplerKind fallback)
    {
        string? text = String(name);
        if (text is null)
        {
            return fallback;
        }

        return Scheduling.SchedulerNames.TryParseSampler(text, out var kind)
            ? kind
            : throw new CliUsageException($"--{name} must be one of {Scheduling.SchedulerNames.AllowedSamplerNames}, not '{text}'.");
    }

    /// <summary>Fails on options the command never asked for (typos).</summary>
    public void EnsureAllUsed()
    {
        var unknown = _values.Keys.Concat(_flags).Where(k => !_known.Contains(k)).ToList();
        if (unknown.Count > 0)
        {
            throw new CliUsageException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}. Known: {string.Join(", ", _known.Order().Select(k => "--" + k))}.");
        }
    }
}
