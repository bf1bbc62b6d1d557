using System.Runtime.InteropServices;
using DiffusionKit.Native;

namespace DiffusionKit.Cli;

/// <summary>
/// The documented exit codes of <c>diffusionkit</c> (see docs/cli.md) and the mapping from a failure to its code and
/// its one-line message.
/// </summary>
internal static class ExitCodes
{
    /// <summary>Success.</summary>
    public const int Success = 0;

    /// <summary>Any failure not listed below (a bug, an unsupported operation, a native library that does not load).</summary>
    public const int Failure = 1;

    /// <summary>A command-line mistake: unknown command or option, a bad value, a prompt word the checkpoint does not know.</summary>
    public const int Usage = 2;

    /// <summary>Invalid data: a checkpoint, config, weights or manifest file that is malformed or does not fit.</summary>
    public const int InvalidData = 3;

    /// <summary>An input/output error: a missing file or folder, no permission, a full disk.</summary>
    public const int InputOutput = 4;

    /// <summary>Out of memory (managed or libtorch's allocator).</summary>
    public const int OutOfMemory = 5;

    /// <summary>Interrupted by Ctrl+C (SIGINT).</summary>
    public const int Interrupted = 130;

    /// <summary>Stopped by SIGTERM (commands that handle it return it themselves).</summary>
    public const int Terminated = 143;

    /// <summary>The exit code and the one-line message for <paramref name="exception"/>.</summary>
    public static (int Code, string Message) Describe(Exception exception)
    {
        var ex = exception is AggregateException { InnerExceptions.Count: 1 } aggregate ? aggregate.InnerExceptions[0] : exception;
        int code = ex switch
        {
            CliUsageException or ArgumentException => Usage,
            InvalidDataException or System.Text.Json.JsonException => InvalidData,
            OperationCanceledException => Interrupted,
            OutOfMemoryException or InsufficientExecutionStackException => OutOfMemory,
            ExternalException when IsNativeOutOfMemory(ex.Message) => OutOfMemory,
            IOException or UnauthorizedAccessException => InputOutput,
            TorchSharpNativeLoadException => Failure,
            _ => Failure,
        };

        string message = code switch
        {
            OutOfMemory => $"out of memory: {ex.Message} (use a smaller --per-prompt/--batch, fewer --threads, or a machine with more memory)",
            Interrupted or Terminated => "interrupted",
            Failure when ex is not TorchSharpNativeLoadException => $"{ex.GetType().Name}: {ex.Message}",
            _ => ex.Message,
        };

        return (code, OneLine(message));
    }

    /// <summary>Joins the lines of <paramref name="message"/> so a failure prints exactly one line.</summary>
    public static string OneLine(string message) =>
        string.Join(" ", message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static bool IsNativeOutOfMemory(string message) =>
        message.Contains("alloc_cpu", StringComparison.Ordinal)
        || message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase)
        || message.Contains("out of memory", StringComparison.OrdinalIgnoreCase);
}
