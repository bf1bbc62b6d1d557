using Xunit;

namespace DiffusionKit.Server.Tests;

/// <summary>One tiny checkpoint and one running server (3 DDIM steps, guidance 2) shared by the HTTP and browser tests.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    internal TinyCheckpoint Checkpoint { get; private set; } = null!;

    internal RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Checkpoint = TinyCheckpoint.Create();
        Server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["DiffusionKit:CheckpointPath"] = Checkpoint.Path,
            ["DiffusionKit:Steps"] = "3",
            ["DiffusionKit:GuidanceScale"] = "2",
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Checkpoint.Dispose();
    }
}

/// <summary>Tests that share <see cref="ServerFixture"/> (they run one after another).</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
