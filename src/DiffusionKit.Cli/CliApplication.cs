using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using DiffusionKit.Cli.Commands;

namespace DiffusionKit.Cli;

/// <summary>
/// The <c>diffusionkit</c> command line: the root command with its subcommands, parsing with System.CommandLine
/// (whose <c>--help</c> is generated from the options), and the rule that every failure ends as one line on stderr
/// and a documented exit code (<see cref="ExitCodes"/>, docs/cli.md).
/// </summary>
internal static class CliApplication
{
    /// <summary>The tool's command name.</summary>
    public const string Name = "diffusionkit";

    /// <summary>How the command line is tokenized: as typed (no <c>@file</c> response files, so a prompt may start with @).</summary>
    public static ParserConfiguration Parsing { get; } = new() { ResponseFileTokenReplacer = null };

    /// <summary>Builds the root command: the subcommands, <c>--help</c> (generated help plus each command's notes) and <c>--version</c>.</summary>
    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand($"{Name}: train and sample text-conditioned diffusion models")
        {
            new DemoCommand(),
            new TrainCommand(),
            new SampleCommand(),
            new EvalCommand(),
            new BenchCommand(),
            new SamplerBenchCommand(),
        };
        root.HelpName = Name;
        foreach (var option in root.Options)
        {
            switch (option)
            {
                case HelpOption help:
                    help.Action = new CommandHelpAction();
                    break;
                case VersionOption version:
                    version.Action = new PrintVersionAction();
                    break;
            }
        }

        // No command: the help, and the usage exit code (nothing was done).
        root.SetAction(parse =>
        {
            new CommandHelpAction().Invoke(parse);
            return ExitCodes.Usage;
        });
        return root;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command; returns the exit code.</summary>
    /// <param name="args">The command-line arguments.</param>
    /// <param name="output">Where help and version go (default: standard output). Commands write their progress to the console.</param>
    /// <param name="error">Where the one-line error goes (default: standard error).</param>
    /// <returns>0, or a documented failure code.</returns>
    public static int Run(IReadOnlyList<string> args, TextWriter? output = null, TextWriter? error = null)
    {
        error ??= Console.Error;
        var parse = CreateRootCommand().Parse(args, Parsing);
        if (parse.Action is ParseErrorAction)
        {
            error.WriteLine($"error: {ExitCodes.OneLine(DescribeParseErrors(parse))}");
            return ExitCodes.Usage;
        }

        var configuration = new InvocationConfiguration
        {
            // Ctrl+C and SIGTERM are the commands' own (ConsoleCancellation: train saves a checkpoint, exits 130/143).
            ProcessTerminationTimeout = null,

            // Failures are reported below, as one line and a documented code.
            EnableDefaultExceptionHandler = false,
            Output = output ?? Console.Out,
            Error = error,
        };
        try
        {
            return parse.Invoke(configuration);
        }
        catch (Exception ex)
        {
            var (code, message) = ExitCodes.Describe(ex);
            string hint = code == ExitCodes.Usage ? $" ({HelpHint(parse)})" : string.Empty;
            error.WriteLine($"error: {message}{hint}");
            return code;
        }
    }

    /// <summary>One line for the parse errors: an unknown command or option first (the rest usually follows from it), else every error.</summary>
    private static string DescribeParseErrors(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.UnmatchedTokens.Count > 0)
        {
            string token = parse.UnmatchedTokens[0];
            if (command is RootCommand && !token.StartsWith('-'))
            {
                return $"unknown command '{token}'; the commands are {string.Join(", ", command.Subcommands.Select(c => c.Name))} (run '{Name} --help').";
            }

            if (!token.StartsWith('-'))
            {
                return $"unexpected argument '{token}'; options look like --name value ({HelpHint(parse)})";
            }

            string? suggestion = Closest(token, command.Options.Select(o => o.Name));
            return $"unknown option '{token}'{(suggestion is null ? string.Empty : $"; did you mean '{suggestion}'?")} ({HelpHint(parse)})";
        }

        return $"{string.Join("; ", parse.Errors.Select(e => e.Message.TrimEnd('.')))} ({HelpHint(parse)})";
    }

    /// <summary>The name nearest <paramref name="typed"/> (at most two edits away: a typo), or null.</summary>
    private static string? Closest(string typed, IEnumerable<string> names) =>
        names.Select(name => (Name: name, Distance: EditDistance(typed, name))).Where(c => c.Distance <= 2).OrderBy(c => c.Distance).Select(c => c.Name).FirstOrDefault();

    /// <summary>Levenshtein distance (insertions, deletions, substitutions) between <paramref name="a"/> and <paramref name="b"/>.</summary>
    private static int EditDistance(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }

    private static string HelpHint(ParseResult parse) =>
        parse.CommandResult.Command is RootCommand ? $"run '{Name} --help'" : $"run '{Name} {parse.CommandResult.Command.Name} --help' for the options";

    /// <summary><c>diffusionkit --version</c>: <see cref="CliVersion.Text"/>.</summary>
    private sealed class PrintVersionAction : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(CliVersion.Text);
            return ExitCodes.Success;
        }
    }
}
