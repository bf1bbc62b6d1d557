// The DiffusionKit sample server: `dotnet run --project samples/DiffusionKit.Server -c Release -- --urls http://127.0.0.1:5080 --DiffusionKit:CheckpointPath=<checkpoint>`.
using DiffusionKit.Server;

await using var app = ServerApp.Build(args);
await app.RunAsync();
