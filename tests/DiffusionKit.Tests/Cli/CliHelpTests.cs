using System.CommandLine;
using System.CommandLine.Help;
using DiffusionKit.Cli;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>--help</c> is generated from the options, so it lists every option with its description and default.</summary>
public sealed class CliHelpTests
{
    public static TheoryData<string> CommandNames => new(CliApplication.CreateRootCommand().Subcommands.Select(c => c.Name));

    [Theory]
    [MemberData(nameof(CommandNames))]
    public void Each_command_help_lists_each_option_with_its_description_and_default(string name)
    {
        var command = CliApplication.CreateRootCommand().Subcommands.Single(c => c.Name == name);

        var (code, help, error) = CliInProcess.Run(name, "--help");

        code.Should().Be(ExitCodes.Success);
        error.Should().BeEmpty();
        help.Should().Contain($"diffusionkit {name} [options]").And.Contain(command.Description);
        var lines = OptionLines(help);
        foreach (var option in command.Options.Where(o => o is not HelpOption))
        {
            var line = lines.Should().ContainSingle(l => l.TrimStart().StartsWith(option.Name + " ", StringComparison.Ordinal), $"{name} --help lists {option.Name}").Which;
            line.Should().Contain(option.Description!, $"{option.Name}'s description comes from its definition");
            if (option.HasDefaultValue && option.GetDefaultValue() is { } value and not bool and not string[])
            {
                line.Should().Contain($"[default: {value}]", $"{option.Name}'s default comes from its definition");
            }
        }

        if (command is CliCommand { Notes: { } notes })
        {
            help.Should().Contain("Notes:").And.Contain(notes.Split('\n')[0].TrimEnd('\r'));
        }
    }

    [Fact]
    public void Help_shows_each_command_its_own_defaults_and_the_choices_as_typed()
    {
        string train = CliInProcess.Run("train", "--help").Output;
        string demo = CliInProcess.Run("demo", "--help").Output;
        string sample = CliInProcess.Run("sample", "-h").Output;

        Line(train, "--steps").Should().Contain("[default: 1000]");
        Line(demo, "--steps").Should().Contain("[default: 4000]");
        Line(train, "--lr-schedule").Should().Contain("<linear|constant|cosine>").And.Contain("[default: linear]");
        Line(demo, "--lr-schedule").Should().Contain("[default: cosine]");
        Line(train, "--lr").Should().Contain("[default: 0.001]");
        Line(train, "--out").Should().Contain("(REQUIRED)");
        Line(sample, "--sampler").Should().Contain("<ddim|ddpm|dpm-solver|euler-a|dpm-solver-sde>").And.Contain("[default: dpm-solver-sde]");
        Line(demo, "--sampler").Should().Contain("[default: dpm-solver-sde]");
        Line(sample, "--precision").Should().Contain("<auto|fp32|bf16>").And.Contain("[default: auto]");

        // train --help also says what a folder run uses instead, from the same record ApplyFolderDefaults applies.
        var folder = DiffusionKit.Cli.Commands.TrainingDefaults.Folder;
        Line(train, "--lr").Should().Contain($"with --data <folder>: {folder.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        Line(train, "--lr-schedule").Should().Contain("with --data <folder>: cosine");
        Line(train, "--warmup").Should().Contain($"with --data <folder>: {folder.Warmup}");
        Line(train, "--prediction").Should().Contain("with --data <folder>: v_prediction");
        Line(train, "--ema").Should().Contain("with --data <folder>: 0.995");
        Line(train, "--snr-gamma").Should().Contain("with --data <folder>: 5");
        Line(train, "--steps").Should().Contain("with --data <folder>: sized to the images");
        Line(train, "--features").Should().Contain("with --data <folder>: 64 up to 16x16 images, 32 above");
        Line(train, "--batch").Should().NotContain("with --data <folder>", "the folder default equals the parser's (100)");
        Line(demo, "--lr").Should().NotContain("with --data <folder>", "the demo trains on the shapes only");
    }

    [Fact]
    public void The_root_help_lists_every_command_with_its_description()
    {
        var (code, help, _) = CliInProcess.Run("--help");

        code.Should().Be(ExitCodes.Success);
        foreach (var command in CliApplication.CreateRootCommand().Subcommands)
        {
            help.Should().Contain($"  {command.Name}").And.Contain(command.Description);
        }

        help.Should().Contain("--version");
    }

    [Fact]
    public void Help_with_a_missing_required_option_still_prints_the_help()
        => CliInProcess.Run("sample", "--help").Code.Should().Be(ExitCodes.Success, "--checkpoint and --out are required to run, not to read the help");

    private static string Line(string help, string option) =>
        OptionLines(help).Single(l => l.TrimStart().StartsWith(option + " ", StringComparison.Ordinal));

    /// <summary>The lines of the help's "Options:" section.</summary>
    private static List<string> OptionLines(string help) =>
        help.Split('\n').SkipWhile(l => !l.StartsWith("Options:", StringComparison.Ordinal)).Skip(1).TakeWhile(l => l.Trim().Length > 0).ToList();
}
