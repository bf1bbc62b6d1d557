using System.CommandLine;

namespace DiffusionKit.Cli;

/// <summary>
/// An option whose value is one of a few names (a sampler, a precision, a schedule). <c>--help</c> shows the names and
/// the default as the user types them (<c>--sampler &lt;ddim|ddpm|...&gt;</c>, <c>[default: ddim]</c>); an unknown
/// name is a usage error listing the allowed ones; <see cref="Read"/> gives the typed value.
/// </summary>
/// <typeparam name="T">The value a name stands for.</typeparam>
internal sealed class ChoiceOption<T> : Option<string>
    where T : struct
{
    private readonly Func<string, T?> _convert;

    /// <summary>Creates the option.</summary>
    /// <param name="name">The option's name, e.g. <c>--sampler</c>.</param>
    /// <param name="description">What the option does (the help text).</param>
    /// <param name="names">The names shown in help and in errors.</param>
    /// <param name="tryConvert">The value for a name, or null for text that is not allowed (it may accept aliases of <paramref name="names"/>).</param>
    /// <param name="defaultName">The name used when the option is not given.</param>
    public ChoiceOption(string name, string description, IReadOnlyList<string> names, Func<string, T?> tryConvert, string defaultName)
        : base(name)
    {
        _convert = tryConvert;
        Description = description;
        HelpName = string.Join('|', names);
        DefaultValueFactory = _ => defaultName;
        Validators.Add(result =>
        {
            string? text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (text is not null && tryConvert(text) is null)
            {
                result.AddError($"{name} must be one of {string.Join(", ", names)}, not '{text}'.");
            }
        });
    }

    /// <summary>The value given, or the default's.</summary>
    /// <param name="parse">A parse result without errors.</param>
    /// <returns>The typed value.</returns>
    public T Read(ParseResult parse) =>
        _convert(parse.GetValue(this)!) ?? throw new InvalidOperationException($"{Name} was not validated before it was read.");
}
