using System.CommandLine;

namespace DiffusionKit.Cli;

/// <summary>
/// What the CLI asks of a parse result beyond an option's value: whether the user gave an option, and defaults that
/// depend on other inputs (an image folder's size, a checkpoint being resumed) applied as if typed on the command line.
/// </summary>
internal static class ParseResultExtensions
{
    /// <summary>Whether <paramref name="option"/> was given on the command line (not merely defaulted).</summary>
    public static bool IsGiven(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>
    /// Parses the command line again with <paramref name="defaults"/> added for each option the user did not give, so
    /// those values go through the options' own parsers and checks; options the user gave keep their values.
    /// </summary>
    /// <param name="parse">A parse result without errors.</param>
    /// <param name="defaults">Each option with its value as the user would type it.</param>
    /// <param name="source">Where the defaults come from, for the message when one is invalid (e.g. "--resume 'run': config.json's training settings").</param>
    /// <returns>The new parse result, or <paramref name="parse"/> when every option was given.</returns>
    /// <exception cref="CliUsageException">When a default is not a valid value of its option.</exception>
    public static ParseResult WithDefaults(this ParseResult parse, IEnumerable<(Option Option, string Value)> defaults, string source)
    {
        var tokens = parse.Tokens.Select(t => t.Value).ToList();
        int given = tokens.Count;
        foreach (var (option, value) in defaults)
        {
            if (!parse.IsGiven(option))
            {
                tokens.Add(option.Name);
                tokens.Add(value);
            }
        }

        if (tokens.Count == given)
        {
            return parse;
        }

        var again = parse.RootCommandResult.Command.Parse(tokens, parse.Configuration);
        return again.Errors.Count == 0 ? again : throw new CliUsageException($"{source}: {again.Errors[0].Message}");
    }

    /// <summary>
    /// The given options among <paramref name="options"/> as command-line text (<c>--name value</c> pairs), to hand
    /// them on to another command's parser (the demo runs train with the train options it was given).
    /// </summary>
    public static IEnumerable<string> GivenArguments(this ParseResult parse, IEnumerable<Option> options)
    {
        foreach (var option in options)
        {
            if (parse.GetResult(option) is { Implicit: false } result)
            {
                if (result.Tokens.Count == 0)
                {
                    yield return option.Name; // a flag
                }

                foreach (var token in result.Tokens)
                {
                    yield return option.Name;
                    yield return token.Value;
                }
            }
        }
    }
}
