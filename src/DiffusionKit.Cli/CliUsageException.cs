namespace DiffusionKit.Cli;

/// <summary>A command-line mistake; printed without a stack trace, exit code 2.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
