using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionKit.Server.Tests;

/// <summary>The sample server started in-process on a real Kestrel port (127.0.0.1:0), so a browser can reach it.</summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private RunningServer(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Client { get; }

    /// <summary>Builds and starts the server with <paramref name="settings"/> as <c>--key=value</c> arguments.</summary>
    public static async Task<RunningServer> StartAsync(IEnumerable<KeyValuePair<string, string>> settings, Action<IServiceCollection>? configureServices = null)
    {
        var args = new List<string> { "--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning" };
        args.AddRange(settings.Select(s => $"--{s.Key}={s.Value}"));
        var app = ServerApp.Build([.. args], configureServices);
        await app.StartAsync();
        var address = app.Urls.Single();
        return new RunningServer(app, new Uri(address));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
