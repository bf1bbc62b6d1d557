using System.Text;
using DiffusionKit.Hosting;
using DiffusionKit.Pipeline;
using FluentAssertions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Xunit;

namespace DiffusionKit.Tests.Hosting;

public sealed class AddDiffusionKitTests
{
    private static void Tiny(DiffusionKitOptions o)
    {
        o.Vocabulary = ["red", "blue", "circle"];
        o.Features = 8;
        o.Steps = 2;
        o.Seed = 3;
    }

    [Fact]
    public async Task Resolves_a_singleton_pipeline_from_a_service_collection()
    {
        var services = new ServiceCollection().AddDiffusionKit(Tiny);
        await using var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

        var pipeline = provider.GetRequiredService<IDiffusionPipeline>();
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red circle"] });

        pipeline.Should().BeSameAs(provider.GetRequiredService<IDiffusionPipeline>()).And.BeSameAs(provider.GetRequiredService<DiffusionPipeline>());
        var concrete = (DiffusionPipeline)pipeline;
        concrete.Defaults.Should().Be(new PipelineDefaults(PipelineDefaults.DefaultSampler, 2, PipelineDefaults.DefaultGuidanceScale, 3));
        concrete.Model.ContextSize.Should().Be(3);
        result.Images.Should().ContainSingle().Which.Seed.Should().Be(3);
    }

    [Fact]
    public void A_checkpoints_recommended_guidance_is_the_default_unless_the_builder_or_the_options_set_one()
    {
        using var folder = new TempDirectory();
        DiffusionKit.Tests.Checkpoints.Corpus.CheckpointCorpus.WriteValid(folder.Path);
        using (var plain = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).Build())
        {
            plain.Defaults.GuidanceScale.Should().Be(PipelineDefaults.DefaultGuidanceScale, "a checkpoint without a sampling section uses the library's default");
        }

        var configPath = Path.Combine(folder.Path, "config.json");
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config["sampling"] = new System.Text.Json.Nodes.JsonObject { ["guidance_scale"] = 1.5 };
        File.WriteAllText(configPath, config.ToJsonString());

        using (var recommended = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).Build())
        {
            recommended.Defaults.GuidanceScale.Should().Be(1.5, "a file without guidance_convention (written before it) holds the weight w itself, and loads as before");
        }

        config["sampling"] = new System.Text.Json.Nodes.JsonObject { ["guidance_scale"] = 2.5, ["guidance_convention"] = "diffusers" };
        File.WriteAllText(configPath, config.ToJsonString());
        using (var diffusers = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).Build())
        {
            diffusers.Defaults.GuidanceScale.Should().Be(1.5, "diffusers' guidance_scale s = 2.5 is the weight w = 1.5");
        }

        using (var given = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).UseGuidance(0).Build())
        {
            given.Defaults.GuidanceScale.Should().Be(0, "UseGuidance wins over the checkpoint");
        }

        using var provider = new ServiceCollection().AddDiffusionKit(o => o.CheckpointPath = folder.Path).BuildServiceProvider();
        provider.GetRequiredService<DiffusionPipeline>().Defaults.GuidanceScale.Should().Be(1.5, "DiffusionKit:GuidanceScale unset");
        using var configured = new ServiceCollection().AddDiffusionKit(o => (o.CheckpointPath, o.GuidanceScale) = (folder.Path, 4)).BuildServiceProvider();
        configured.GetRequiredService<DiffusionPipeline>().Defaults.GuidanceScale.Should().Be(4);
    }

    [Fact]
    public void Registration_is_idempotent_and_uses_TryAdd()
    {
        var services = new ServiceCollection();
        services.AddDiffusionKit(Tiny).AddDiffusionKit(o => o.Seed = 4).AddDiffusionKit();

        services.Count(d => d.ServiceType == typeof(IDiffusionPipeline)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(DiffusionPipeline)).Should().Be(1);
        services.Count(d => d.ServiceType == typeof(IValidateOptions<DiffusionKitOptions>)).Should().Be(1);
        services.Single(d => d.ServiceType == typeof(IDiffusionPipeline)).Lifetime.Should().Be(ServiceLifetime.Singleton);
        using var provider = services.BuildServiceProvider();
        provider.GetRequiredService<IOptions<DiffusionKitOptions>>().Value.Seed.Should().Be(4, "later configuration still applies");

        var custom = new ServiceCollection().AddSingleton<IDiffusionPipeline, NoPipeline>().AddDiffusionKit(Tiny);
        using var customProvider = custom.BuildServiceProvider();
        customProvider.GetRequiredService<IDiffusionPipeline>().Should().BeOfType<NoPipeline>("an app's own registration wins");
    }

    [Fact]
    public void Logs_through_the_container_logger_factory()
    {
        var logs = new CapturingLoggerProvider();
        var services = new ServiceCollection().AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug)).AddDiffusionKit(Tiny);
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IDiffusionPipeline>();

        logs.Entries.Should().Contain(e => e.Category == typeof(DiffusionPipeline).FullName && e.Level == LogLevel.Information && e.Message.Contains("pipeline ready", StringComparison.Ordinal));
    }

    [Fact]
    public void Invalid_options_throw_on_resolve_outside_a_host()
    {
        using var provider = new ServiceCollection().AddDiffusionKit(o => { Tiny(o); o.Steps = 0; }).BuildServiceProvider();

        provider.Invoking(p => p.GetRequiredService<IDiffusionPipeline>()).Should().Throw<OptionsValidationException>().WithMessage("*DiffusionKit:Steps*");
    }

    [Fact]
    public async Task Resolves_from_a_generic_host_configured_with_json()
    {
        const string json = """
            { "DiffusionKit": { "Vocabulary": [ "red", "blue" ], "Features": 8, "ImageSize": 8, "Sampler": "DDIM", "Steps": 3, "GuidanceScale": 1.5, "Seed": 12, "Threads": 1 } }
            """;
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddDiffusionKit(builder.Configuration.GetSection(DiffusionKitOptions.SectionName));
        using var host = builder.Build();

        await host.StartAsync();
        var pipeline = host.Services.GetRequiredService<IDiffusionPipeline>();
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], ImagesPerPrompt = 2 });
        await host.StopAsync();

        ((DiffusionPipeline)pipeline).Defaults.Should().Be(new PipelineDefaults(SamplerKind.Ddim, 3, 1.5, 12));
        result.Images.Should().HaveCount(2).And.OnlyContain(i => i.Width == 8);
        result.Images.Select(i => i.Seed).Should().Equal(12L, 13L);
    }

    [Theory]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Steps": 0 } }""", "DiffusionKit:Steps")]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Sampler": "euler" } }""", "DiffusionKit:Sampler is 'euler'; allowed values: ddim, ddpm, dpm-solver, euler-a, dpm-solver-sde")]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Sampler": "ddpm", "Steps": 50 } }""", "DiffusionKit:Steps is 50, but the ddpm sampler")]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Features": 12 } }""", "DiffusionKit:Features")]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Device": "tpu" } }""", "DiffusionKit:Device is 'tpu'; allowed values: cpu, cuda, cuda:N")]
    [InlineData("""{ "DiffusionKit": { "Steps": 5 } }""", "DiffusionKit:Vocabulary is empty")]
    [InlineData("""{ "DiffusionKit": { "CheckpointPath": "/no/such/folder" } }""", "DiffusionKit:CheckpointPath '/no/such/folder' is not a checkpoint folder")]
    [InlineData("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "GuidanceScale": -1 } }""", "DiffusionKit:GuidanceScale")]
    public async Task Invalid_options_fail_at_host_start_naming_the_option(string json, string expected)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json)));
        builder.Services.AddDiffusionKit(builder.Configuration.GetSection(DiffusionKitOptions.SectionName));
        using var host = builder.Build();

        var thrown = await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<OptionsValidationException>();

        thrown.Which.Message.Should().Contain(expected);
    }

    [Fact]
    public async Task Unknown_configuration_keys_fail_at_host_start()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes("""{ "DiffusionKit": { "Vocabulary": [ "red" ], "Stepz": 4 } }""")));
        builder.Services.AddDiffusionKit(builder.Configuration.GetSection(DiffusionKitOptions.SectionName));
        using var host = builder.Build();

        await host.Invoking(h => h.StartAsync()).Should().ThrowAsync<InvalidOperationException>().WithMessage("*Stepz*");
    }

    [Fact]
    public void ConfigureBuilder_runs_last_on_the_builder()
    {
        using var provider = new ServiceCollection().AddDiffusionKit(o => { Tiny(o); o.ConfigureBuilder = b => b.UseGuidance(2.5); }).BuildServiceProvider();

        provider.GetRequiredService<DiffusionPipeline>().Defaults.GuidanceScale.Should().Be(2.5);
    }

    private sealed class NoPipeline : IDiffusionPipeline
    {
        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            Task.FromResult(new GenerationResult([], TimeSpan.Zero));

        public IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, CancellationToken cancellationToken = default) =>
            AsyncEnumerable.Empty<GenerationUpdate>();
    }
}
