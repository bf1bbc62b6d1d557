using System.CommandLine;

namespace DiffusionKit.Cli;

/// <summary>
/// A <c>diffusionkit</c> command: a one-line description (listed by <c>diffusionkit --help</c>), its options (each
/// with its own description and default) and notes that <c>diffusionkit &lt;command&gt; --help</c> prints after the
/// generated option list.
/// </summary>
internal abstract class CliCommand : Command
{
    /// <summary>Creates the command.</summary>
    /// <param name="name">The command's name.</param>
    /// <param name="description">One line: what the command does.</param>
    /// <param name="notes">What the options alone do not say (outputs, how options combine); null for none.</param>
    protected CliCommand(string name, string description, string? notes)
        : base(name, description)
    {
        Notes = notes;
    }

    /// <summary>The notes printed after the options by <c>--help</c>, or null.</summary>
    public string? Notes { get; }
}
