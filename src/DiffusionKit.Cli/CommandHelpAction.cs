using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace DiffusionKit.Cli;

/// <summary>
/// What <c>--help</c> prints: System.CommandLine's help, generated from the command's options (names, value
/// placeholders, descriptions, defaults, REQUIRED), followed by the command's <see cref="CliCommand.Notes"/>.
/// </summary>
internal sealed class CommandHelpAction : SynchronousCommandLineAction
{
    private readonly HelpAction _generated = new();

    /// <inheritdoc />
    public override int Invoke(ParseResult parseResult)
    {
        _generated.Invoke(parseResult);
        if (parseResult.CommandResult.Command is CliCommand { Notes: { } notes })
        {
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Notes:");
            foreach (string line in notes.Split('\n'))
            {
                output.WriteLine(line.Length == 0 ? string.Empty : "  " + line.TrimEnd('\r'));
            }

            output.WriteLine();
        }

        return ExitCodes.Success;
    }
}
