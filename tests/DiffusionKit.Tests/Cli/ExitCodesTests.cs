using System.Runtime.InteropServices;
using DiffusionKit.Cli;
using DiffusionKit.Tests.Checkpoints;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary>Every failure maps to one documented exit code and one line (docs/cli.md).</summary>
public sealed class ExitCodesTests
{
    public static TheoryData<Exception, int> Failures => new()
    {
        { new CliUsageException("bad option"), ExitCodes.Usage },
        { new ArgumentOutOfRangeException("steps", "too many"), ExitCodes.Usage },
        { new InvalidDataException("corrupt"), ExitCodes.InvalidData },
        { new FileNotFoundException("missing"), ExitCodes.InputOutput },
        { new DirectoryNotFoundException("missing"), ExitCodes.InputOutput },
        { new UnauthorizedAccessException("denied"), ExitCodes.InputOutput },
        { new IOException("disk full"), ExitCodes.InputOutput },
        { new OutOfMemoryException(), ExitCodes.OutOfMemory },
        { new ExternalException("[enforce fail at alloc_cpu.cpp:127] data. DefaultCPUAllocator: not enough memory"), ExitCodes.OutOfMemory },
        { new ExternalException("some other libtorch error"), ExitCodes.Failure },
        { new OperationCanceledException(), ExitCodes.Interrupted },
        { new InvalidOperationException("bad state"), ExitCodes.Failure },
        { new NotSupportedException("nope"), ExitCodes.Failure },
        { new OverflowException("Arithmetic operation resulted in an overflow."), ExitCodes.Failure },
        { new AggregateException(new InvalidDataException("inner")), ExitCodes.InvalidData },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void Each_failure_has_its_documented_code_and_a_single_line(Exception exception, int expected)
    {
        var (code, message) = ExitCodes.Describe(exception);

        code.Should().Be(expected);
        message.Should().NotContain("\n").And.NotBeNullOrWhiteSpace();
    }

    [Fact]
    public void A_multi_line_message_becomes_one_line()
    {
        ExitCodes.Describe(new InvalidDataException("does not fit:\n  missing (1): a\n  unexpected (1): b")).Message
            .Should().Be("does not fit: missing (1): a unexpected (1): b");
    }

    [PlatformFact("unix", "the exit codes of a Unix process")]
    public void The_cli_reports_usage_and_missing_checkpoints_with_one_line_and_codes_2_and_4()
    {
        using var dir = new TempDirectory();
        var unknown = CliProcess.Run(["paint"]);
        unknown.Code.Should().Be(ExitCodes.Usage);
        unknown.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: unknown command 'paint'");

        var noCheckpoint = CliProcess.Run(["sample", "--out", dir.File("o"), "--prompt", "red circle"]);
        noCheckpoint.Code.Should().Be(ExitCodes.Usage);
        noCheckpoint.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("--checkpoint").And.Contain("--help");

        var missing = CliProcess.Run(["sample", "--checkpoint", dir.File("nowhere"), "--out", dir.File("o"), "--prompt", "red circle"]);
        missing.Code.Should().Be(ExitCodes.InputOutput);
        missing.Stderr.Trim().Split('\n').Should().ContainSingle().Which.Should().Contain("nowhere");
    }
}
