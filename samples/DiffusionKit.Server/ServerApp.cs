using DiffusionKit.Hosting;
using DiffusionKit.Native;
using Microsoft.AspNetCore.Builder;

namespace DiffusionKit.Server;

/// <summary>
/// Builds the sample server: DiffusionKit's pipeline from the <c>DiffusionKit</c> configuration section (warmed up
/// before Kestrel listens), the image API under <c>/v1/images</c>, readiness at <c>/healthz</c> and the page at <c>/</c>.
/// </summary>
public static class ServerApp
{
    /// <summary>Creates the application from command-line arguments (<c>--urls</c>, <c>--DiffusionKit:CheckpointPath=...</c>, any configuration key).</summary>
    /// <param name="args">Command-line arguments.</param>
    /// <param name="configureServices">Runs before DiffusionKit's registrations (which use <c>TryAdd</c>), so a service registered here, such as a test's own <see cref="IDiffusionPipeline"/>, wins. Default null.</param>
    /// <returns>The application, not yet started.</returns>
    public static WebApplication Build(string[] args, Action<IServiceCollection>? configureServices = null)
    {
        TorchSharpNativeCompatibility.EnsureLoadable();
        var builder = WebApplication.CreateBuilder(args);
        configureServices?.Invoke(builder.Services);
        builder.Services.AddDiffusionKit(builder.Configuration.GetSection(DiffusionKitOptions.SectionName));
        builder.Services.AddHealthChecks();
        builder.Services.AddProblemDetails();

        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        app.MapImageEndpoints();
        app.MapGet("/", IndexPage.Serve);
        return app;
    }
}
