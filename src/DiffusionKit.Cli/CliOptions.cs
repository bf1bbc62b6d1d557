using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace DiffusionKit.Cli;

/// <summary>
/// Builds the CLI's typed options: each one carries its name, its description and its default (what <c>--help</c>
/// prints, generated from them), and parses its value with a one-line error that names the option and says what is
/// allowed (a usage error, exit code 2).
/// </summary>
internal static class CliOptions
{
    /// <summary>A whole number in <paramref name="min"/>..<paramref name="max"/> with a default.</summary>
    public static Option<int> Integer(string name, string description, int defaultValue, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, text => ParseInteger(name, text, min, max)),
    };

    /// <summary>A whole number in <paramref name="min"/>..<paramref name="max"/>; null when not given (the description says what that means).</summary>
    public static Option<int?> OptionalInteger(string name, string description, int min = int.MinValue, int max = int.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        CustomParser = result => Parse<int?>(result, text => ParseInteger(name, text, min, max)),
    };

    /// <summary>A 64-bit whole number (a seed) with a default.</summary>
    public static Option<long> Long(string name, string description, long defaultValue) => new(name)
    {
        Description = description,
        HelpName = "N",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, text => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long value)
            ? value
            : throw new CliUsageException($"{name} must be a whole number, not '{text}'.")),
    };

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>] with a default.</summary>
    public static Option<double> Number(string name, string description, double defaultValue, double min = double.MinValue, double max = double.MaxValue) => new(name)
    {
        Description = description,
        HelpName = "X",
        DefaultValueFactory = _ => defaultValue,
        CustomParser = result => Parse(result, text => ParseNumber(name, text, min, max)),
    };

    /// <summary>A finite number in [<paramref name="min"/>, <paramref name="max"/>]; <paramref name="defaultValue"/> (null: off) when not given.</summary>
    public static Option<double?> OptionalNumber(string name, string description, double min, double max, double? defaultValue = null)
    {
        var option = new Option<double?>(name)
        {
            Description = description,
            HelpName = "X",
            CustomParser = result => Parse<double?>(result, text => ParseNumber(name, text, min, max)),
        };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    /// <summary>A positive duration such as <c>90s</c>, <c>10m</c>, <c>1.5h</c> or <c>00:10:00</c>; null when not given.</summary>
    public static Option<TimeSpan?> Duration(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "90s|10m|1.5h|hh:mm:ss",
        CustomParser = result => Parse<TimeSpan?>(result, text => ParseDuration(name, text)),
    };

    /// <summary>A flag: true when given (<c>--name</c>, or <c>--name true</c>).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>A text value (a path, a list) with a default, or null when <paramref name="defaultValue"/> is null and the option is not given.</summary>
    public static Option<string?> Text(string name, string helpName, string description, string? defaultValue = null)
    {
        var option = new Option<string?>(name) { Description = description, HelpName = helpName };
        if (defaultValue is not null)
        {
            option.DefaultValueFactory = _ => defaultValue;
        }

        return option;
    }

    /// <summary>A text value the command cannot run without (<c>--help</c> marks it REQUIRED).</summary>
    public static Option<string> RequiredText(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, Required = true };

    /// <summary>A value that may be given several times (<c>--prompt a --prompt b</c>); empty when not given.</summary>
    public static Option<string[]> Repeated(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName, DefaultValueFactory = _ => [] };

    /// <summary>
    /// A value parsed by <paramref name="parse"/>, which throws <see cref="CliUsageException"/> (naming the option) for
    /// text it does not accept; null when not given.
    /// </summary>
    public static Option<T?> Parsed<T>(string name, string helpName, string description, Func<string, T> parse)
        where T : class => new(name)
        {
            Description = description,
            HelpName = helpName,
            CustomParser = result => Parse<T?>(result, text => parse(text)),
        };

    /// <summary>
    /// Runs <paramref name="parse"/> on the option's value; a <see cref="CliUsageException"/> becomes the parse error
    /// (so it is reported before the command runs, as a usage error).
    /// </summary>
    private static T Parse<T>(ArgumentResult result, Func<string, T> parse)
    {
        if (result.Tokens.Count == 0)
        {
            return default!;
        }

        try
        {
            return parse(result.Tokens[^1].Value);
        }
        catch (CliUsageException ex)
        {
            result.AddError(ex.Message);
            return default!;
        }
    }

    private static int ParseInteger(string name, string text, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? value
            : throw new CliUsageException($"{name} must be a whole number {RangeText(min, max)}, not '{text}'.");

    private static double ParseNumber(string name, string text, double min, double max) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) && double.IsFinite(value) && value >= min && value <= max
            ? value
            : throw new CliUsageException($"{name} must be a number in [{FormatNumber(min)}, {FormatNumber(max)}], not '{text}'.");

    /// <summary>A bound as a user types it: 0.5, 100, 1e-8, 1e+12.</summary>
    private static string FormatNumber(double value) =>
        value.ToString("R", CultureInfo.InvariantCulture).Replace("E-0", "e-", StringComparison.Ordinal).Replace("E+0", "e+", StringComparison.Ordinal).Replace('E', 'e');

    private static string RangeText(int min, int max) => (min, max) switch
    {
        (int.MinValue, int.MaxValue) => string.Empty,
        (_, int.MaxValue) => string.Create(CultureInfo.InvariantCulture, $"of at least {min}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"in {min}..{max}"),
    };

    private static TimeSpan ParseDuration(string name, string text)
    {
        if (text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span))
        {
            return span > TimeSpan.Zero ? span : throw new CliUsageException($"{name} must be positive, not '{text}'.");
        }

        char unit = text.Length > 0 ? text[^1] : ' ';
        double factor = unit switch { 's' => 1, 'm' => 60, 'h' => 3600, _ => 0 };
        if (factor > 0 && double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && amount > 0 && amount * factor < TimeSpan.MaxValue.TotalSeconds)
        {
            return TimeSpan.FromSeconds(amount * factor);
        }

        throw new CliUsageException($"{name} must be a duration like 90s, 10m, 1.5h or 00:10:00, not '{text}'.");
    }
}
