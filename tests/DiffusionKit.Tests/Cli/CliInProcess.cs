using System.CommandLine;
using DiffusionKit.Cli;
using FluentAssertions;

namespace DiffusionKit.Tests.Cli;

/// <summary>Runs and parses the CLI inside the test process (faster than <see cref="CliProcess"/>, same code path after <c>Main</c>).</summary>
internal static class CliInProcess
{
    /// <summary>Runs <c>diffusionkit <paramref name="args"/></c> through <see cref="CliApplication.Run"/>.</summary>
    /// <returns>The exit code, what help and version wrote, and the error line(s).</returns>
    public static (int Code, string Output, string Error) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CliApplication.Run(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Runs <c>diffusionkit <paramref name="args"/></c>, failing the test (with the error line) unless it exits 0.</summary>
    public static void Succeed(params string[] args)
    {
        var (code, _, error) = Run(args);
        code.Should().Be(0, error);
    }

    /// <summary>Parses <paramref name="args"/> with <paramref name="command"/> (as if it were the root), failing the test on a parse error.</summary>
    public static ParseResult ParseValid(this Command command, params string[] args)
    {
        var parse = command.Parse(args);
        parse.Errors.Select(e => e.Message).Should().BeEmpty();
        return parse;
    }
}
