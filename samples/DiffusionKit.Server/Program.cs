// The DiffusionKit sample server: `dotnet run --project samples/DiffusionKit.Server -c Release -- --urls http://127.0.0.1:5080 --DiffusionKit:CheckpointPath=<checkpoint>`.
using DiffusionKit.Server;

// A server that cannot start (a corrupt checkpoint, an invalid option, a port in use) exits with code 1 and one line
// naming the cause; the host has already logged the details. Without this the unhandled exception aborts the process
// (SIGABRT, exit code 134, possibly a core dump) and prints its stack trace twice.
try
{
    await using var app = ServerApp.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception e)
{
    Console.Error.WriteLine($"error: the server stopped: {e.Message}");
    return 1;
}
