using System.Globalization;
using DiffusionKit.Cli;

// Every failure ends as one line on stderr and a documented exit code (ExitCodes, docs/cli.md); nothing ends with
// "Unhandled exception" and SIGABRT. A failure on another thread is reported the same way.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    var (code, message) = e.ExceptionObject is Exception ex ? ExitCodes.Describe(ex) : (ExitCodes.Failure, "unknown failure");
    Console.Error.WriteLine($"error: {message}");
    Environment.Exit(code);
};

// Help (defaults such as 0.001) and every figure the commands print read the same on every machine.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

return CliApplication.Run(args);
