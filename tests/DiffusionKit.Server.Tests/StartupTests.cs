using System.Net;
using DiffusionKit.Hosting;
using FluentAssertions;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Xunit;

namespace DiffusionKit.Server.Tests;

/// <summary>Ready before traffic: the checkpoint is loaded and warmed up at start, health says so, a corrupt checkpoint stops the start.</summary>
public sealed class StartupTests
{
    [Fact]
    public async Task Health_is_unhealthy_until_the_warm_up_finished_then_healthy_then_unhealthy_after_stop()
    {
        using var checkpoint = TinyCheckpoint.Create();
        await using var app = ServerApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", $"--DiffusionKit:CheckpointPath={checkpoint.Path}"]);
        var health = app.Services.GetRequiredService<HealthCheckService>();

        var before = await health.CheckHealthAsync();
        await app.StartAsync();
        var after = await health.CheckHealthAsync();
        await app.StopAsync();
        var stopped = await health.CheckHealthAsync();

        before.Status.Should().Be(HealthStatus.Unhealthy);
        before.Entries[DiffusionKitHealthCheck.Name].Description.Should().Contain("not ready");
        after.Status.Should().Be(HealthStatus.Healthy);
        after.Entries[DiffusionKitHealthCheck.Name].Tags.Should().Contain(DiffusionKitHealthCheck.ReadyTag);
        stopped.Status.Should().Be(HealthStatus.Unhealthy);
    }

    [Theory]
    [InlineData("model.safetensors", "truncated")]
    [InlineData("config.json", "garbage")]
    public async Task A_corrupt_checkpoint_refuses_to_start_naming_the_file(string file, string damage)
    {
        using var good = TinyCheckpoint.Create();
        using var checkpoint = good.Copy();
        string path = Path.Combine(checkpoint.Path, file);
        if (damage == "truncated")
        {
            var bytes = await File.ReadAllBytesAsync(path);
            await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        }
        else
        {
            await File.WriteAllTextAsync(path, "{ not json");
        }

        await using var app = ServerApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--DiffusionKit:CheckpointPath={checkpoint.Path}"]);

        var start = await app.Invoking(a => a.StartAsync()).Should().ThrowAsync<Exception>();

        start.Which.Message.Should().Contain(file, "the loader's message names the file");
        var health = await app.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        health.Status.Should().Be(HealthStatus.Unhealthy);
        health.Entries[DiffusionKitHealthCheck.Name].Description.Should().Contain(file);
    }

    [Fact]
    public async Task A_busy_pipeline_is_503_with_Retry_After()
    {
        await using var server = await RunningServer.StartAsync(
            new Dictionary<string, string> { ["DiffusionKit:Vocabulary:0"] = "red", ["DiffusionKit:Features"] = "8", ["DiffusionKit:ImageSize"] = "8" },
            services => services.AddSingleton<IDiffusionPipeline>(new BusyPipeline(TimeSpan.FromSeconds(2.2))));

        using var get = await server.Client.GetAsync("/v1/images?prompt=red");
        using var stream = await server.Client.PostAsync("/v1/images/stream", new StringContent("""{ "prompt": "red" }""", System.Text.Encoding.UTF8, "application/json"));

        foreach (var response in new[] { get, stream })
        {
            response.StatusCode.Should().Be(HttpStatusCode.ServiceUnavailable);
            response.Headers.GetValues("Retry-After").Single().Should().Be("3", "2.2 s rounds up to whole seconds");
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadAsStringAsync()).Should().Contain("busy");
        }
    }

    [Fact]
    public async Task A_full_queue_is_503_with_Retry_After_a_limit_from_configuration_is_400_and_the_server_recovers()
    {
        using var checkpoint = TinyCheckpoint.Create();
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string>
        {
            ["DiffusionKit:CheckpointPath"] = checkpoint.Path,
            ["DiffusionKit:Limits:MaxBatchImages"] = "1",
            ["DiffusionKit:Limits:MaxQueuedImages"] = "2",
            ["DiffusionKit:Limits:MaxImagesPerRequest"] = "2",
        });

        // Ten slow requests at once: one is sampled, two wait, the rest find the queue full.
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => server.Client.GetAsync($"/v1/images?prompt=a%20large%20red%20circle&seed={i}&steps=60")));
        using var overLimit = await server.Client.GetAsync("/v1/images?prompt=a%20large%20red%20circle&n=3");
        using var after = await server.Client.GetAsync("/v1/images?prompt=a%20large%20red%20circle&steps=2");

        try
        {
            var busy = responses.Where(r => r.StatusCode == HttpStatusCode.ServiceUnavailable).ToList();
            busy.Should().NotBeEmpty();
            responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK || r.StatusCode == HttpStatusCode.ServiceUnavailable);
            responses.Count(r => r.StatusCode == HttpStatusCode.OK).Should().BeGreaterThanOrEqualTo(1);
            busy.Should().OnlyContain(r => int.Parse(r.Headers.GetValues("Retry-After").Single(), System.Globalization.CultureInfo.InvariantCulture) >= 1);
            overLimit.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            (await overLimit.Content.ReadAsStringAsync()).Should().Contain("\"limit\":\"MaxImagesPerRequest\"").And.Contain("\"n\"");
            after.StatusCode.Should().Be(HttpStatusCode.OK, "the server recovers once the queue drains");
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Invalid_limits_in_configuration_fail_at_start_naming_the_option()
    {
        using var checkpoint = TinyCheckpoint.Create();
        await using var app = ServerApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--DiffusionKit:CheckpointPath={checkpoint.Path}", "--DiffusionKit:Limits:MaxQueuedImages=0"]);

        var start = await app.Invoking(a => a.StartAsync()).Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>();

        start.Which.Message.Should().Contain("DiffusionKit:Limits:MaxQueuedImages");
    }

    [Fact]
    public async Task The_server_process_exits_with_code_1_and_one_line_naming_the_file_when_the_checkpoint_is_corrupt()
    {
        using var good = TinyCheckpoint.Create();
        using var checkpoint = good.Copy();
        string weights = Path.Combine(checkpoint.Path, "model.safetensors");
        var bytes = await File.ReadAllBytesAsync(weights);
        await File.WriteAllBytesAsync(weights, bytes[..(bytes.Length / 2)]);

        // As an operator starts it: the server's own executable, a child process.
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new System.Diagnostics.ProcessStartInfo(dotnet) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var argument in new[] { Path.Combine(AppContext.BaseDirectory, "DiffusionKit.Server.dll"), "--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--DiffusionKit:CheckpointPath={checkpoint.Path}" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string error = await stderr;
        await stdout;
        process.ExitCode.Should().Be(1, "a server that cannot start exits with 1, not by aborting (134); stderr: {0}", error);
        error.Trim().Split('\n').Should().ContainSingle("one line names the cause").Which.Should().StartWith("error: ").And.Contain("model.safetensors");
        error.Should().NotContain("Unhandled exception");
    }

    /// <summary>Warms up fine, then reports a full queue for every request.</summary>
    private sealed class BusyPipeline(TimeSpan retryAfter) : IDiffusionPipeline
    {
        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            request.Prompts[0].Length == 0
                ? Task.FromResult(new GenerationResult([], TimeSpan.Zero))
                : throw new PipelineBusyException(64, 1, 64, retryAfter);

        public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            await Task.Yield();
            throw new PipelineBusyException(64, 1, 64, retryAfter);
#pragma warning disable CS0162 // An iterator needs a yield.
            yield break;
#pragma warning restore CS0162
        }
    }
}
