using System.CommandLine;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;

namespace DiffusionKit.Cli;

/// <summary>
/// The options several commands take, with one name, description and parser each. Every call makes a new option (an
/// option belongs to the command it is added to); a command passes its own default where commands differ.
/// </summary>
internal static class CommonOptions
{
    /// <summary><c>--threads N</c>: libtorch's CPU threads; null (not given) means every core.</summary>
    public static Option<int?> Threads() =>
        CliOptions.OptionalInteger("--threads", "CPU threads for libtorch [default: every core]", 1, 256);

    /// <summary><c>--precision auto|fp32|bf16</c>.</summary>
    public static ChoiceOption<Precision> Precision(Precision defaultValue, string description) =>
        new("--precision", description, PrecisionNames.Names, PrecisionNames.TryParse, PrecisionNames.Format(defaultValue));

    /// <summary><c>--sampler ddim|ddpm|dpm-solver|euler-a|dpm-solver-sde</c> (diffusers' class names and <see cref="SamplerKind"/> names are accepted too).</summary>
    public static ChoiceOption<SamplerKind> Sampler(SamplerKind defaultValue, string description) =>
        new("--sampler", description, SchedulerNames.AllowedSamplerNames.Split(", "),
            text => SchedulerNames.TryParseSampler(text, out var kind) ? kind : null, SchedulerNames.ShortName(defaultValue));

    /// <summary><c>--seed N</c>, default 0.</summary>
    public static Option<long> Seed(string description) => CliOptions.Long("--seed", description, PipelineDefaults.DefaultSeed);

    /// <summary><c>--guidance X</c>: the classifier-free guidance weight w, default the library's.</summary>
    public static Option<double> Guidance(string description) =>
        CliOptions.Number("--guidance", description + Convention, PipelineDefaults.DefaultGuidanceScale, 0, MaxGuidance);

    /// <summary><c>--guidance X</c> without a parsed default (null when not given: the command resolves it, as its description says).</summary>
    public static Option<double?> OptionalGuidance(string description) =>
        CliOptions.OptionalNumber("--guidance", description + Convention, 0, MaxGuidance);

    /// <summary>Which guidance convention <c>--guidance</c> is, said in every command's help.</summary>
    private const string Convention = "; the course's weight w of (1+w)·cond − w·uncond: diffusers' guidance_scale is w + 1";

    /// <summary>The largest guidance scale the CLI accepts, the bound checkpoints are validated against.</summary>
    private const double MaxGuidance = GuidanceRange.Max;

    /// <summary><c>--per-prompt N</c>: images per prompt, default 4.</summary>
    public static Option<int> PerPrompt(int max) => CliOptions.Integer("--per-prompt", "images per prompt", 4, 1, max);

    /// <summary><c>--hold-out "blue triangle,yellow cross"</c>: shapes colour/shape combinations; empty when not given.</summary>
    public static Option<IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)>?> HoldOut(string description) =>
        CliOptions.Parsed("--hold-out", "colour shape,...", description, ParseHeldOut);

    /// <summary>The combinations of <paramref name="option"/>, or none when it was not given.</summary>
    public static IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)> ReadHeldOut(this ParseResult parse, Option<IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)>?> option) =>
        parse.GetValue(option) ?? Array.Empty<(ShapeColor, ShapeKind)>();

    private static IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)> ParseHeldOut(string text)
    {
        var result = new List<(ShapeColor, ShapeKind)>();
        foreach (string pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var words = pair.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length != 2 || !Enum.TryParse(words[0], true, out ShapeColor color) || !Enum.TryParse(words[1], true, out ShapeKind kind)
                || !Enum.IsDefined(color) || !Enum.IsDefined(kind) || int.TryParse(words[0], out _) || int.TryParse(words[1], out _))
            {
                throw new CliUsageException($"--hold-out entries look like 'blue triangle' (colour: {string.Join("/", ShapesCatalog.ColorWords)}; shape: {string.Join("/", ShapesCatalog.KindWords)}), not '{pair}'.");
            }

            result.Add((color, kind));
        }

        return result;
    }
}
