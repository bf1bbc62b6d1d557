using DiffusionKit;
using DiffusionKit.Hosting;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DiffusionKit's <see cref="IDiffusionPipeline"/> in a service collection.</summary>
public static class DiffusionKitServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IDiffusionPipeline"/> (and the concrete <see cref="DiffusionPipeline"/>, the same instance) as
    /// singletons built from <see cref="DiffusionKitOptions"/>, which are validated when the host starts; a hosted
    /// service that loads the checkpoint and warms the pipeline up at host start; and a readiness health check
    /// (<see cref="DiffusionKitHealthCheck"/>, named <see cref="DiffusionKitHealthCheck.Name"/>) that reports Unhealthy
    /// until the warm-up has finished; and <see cref="ISampler"/> as the library's <see cref="DiffusionSampler"/>, for code that
    /// samples tensors itself with the pipeline's seeding. The check is added to the health-check options, as <c>AddCheck</c> does, so it
    /// runs as soon as the app calls <c>services.AddHealthChecks()</c> (and <c>app.MapHealthChecks("/healthz")</c>).
    /// </summary>
    /// <remarks>
    /// In a host, a checkpoint that cannot be loaded makes <c>StartAsync</c> throw the loader's exception (which names
    /// the file), so the host refuses to start instead of failing every request.
    /// Registrations use <c>TryAdd</c>, so a pipeline registered earlier wins. Idempotent: calling this again adds
    /// nothing but the new configuration. The pipeline logs through the container's <see cref="ILoggerFactory"/> when
    /// there is one. Outside a host (no start-up validation), invalid options throw <see cref="OptionsValidationException"/>
    /// when the pipeline is first resolved.
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKit(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (services.Any(d => d.ServiceType == typeof(DiffusionKitMarker)))
        {
            return services;
        }

        services.AddSingleton<DiffusionKitMarker>();
        services.AddOptions<DiffusionKitOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DiffusionKitOptions>, DiffusionKitOptionsValidator>());
        services.TryAddSingleton(CreatePipeline);
        services.TryAddSingleton<IDiffusionPipeline>(sp => sp.GetRequiredService<DiffusionPipeline>());
        services.TryAddSingleton<DiffusionKitReadiness>();
        services.TryAddSingleton<ISampler, DiffusionSampler>();
        services.AddHostedService<DiffusionKitWarmupService>();

        // The check joins whatever AddHealthChecks() the app calls (ASP.NET Core's MapHealthChecks needs it); adding
        // only the registration keeps a plain service collection free of the health-check service and its logging.
        services.Configure<HealthCheckServiceOptions>(o => o.Registrations.Add(new HealthCheckRegistration(
            DiffusionKitHealthCheck.Name,
            sp => new DiffusionKitHealthCheck(sp.GetRequiredService<DiffusionKitReadiness>()),
            HealthStatus.Unhealthy,
            [DiffusionKitHealthCheck.ReadyTag])));
        return services;
    }

    /// <summary>As <see cref="AddDiffusionKit(IServiceCollection)"/>, configuring the options in code.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Sets <see cref="DiffusionKitOptions"/>; runs after earlier configuration.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKit(this IServiceCollection services, Action<DiffusionKitOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configure);
        services.Configure(configure);
        return services.AddDiffusionKit();
    }

    /// <summary>
    /// As <see cref="AddDiffusionKit(IServiceCollection)"/>, binding the options from a configuration section
    /// (conventionally <c>configuration.GetSection("DiffusionKit")</c>). Unknown keys are errors, so typos fail at start.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The section to bind.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKit(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<DiffusionKitOptions>().Bind(configuration, binder => binder.ErrorOnUnknownConfiguration = true);
        return services.AddDiffusionKit();
    }

    /// <summary>
    /// Registers a denoiser type, so the pipeline <c>AddDiffusionKit</c> builds loads checkpoints whose <c>model.type</c>
    /// is its <see cref="DenoiserType.Name"/> (<see cref="DiffusionPipelineBuilder.UseDenoiserType"/>). The built-in
    /// <c>ContextUnet</c> needs no registration. Any order relative to <c>AddDiffusionKit</c>; registering a type of the
    /// same class again adds nothing.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="type">The type.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKitDenoiserType(this IServiceCollection services, DenoiserType type)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(type);
        services.TryAddEnumerable(ServiceDescriptor.Singleton(type));
        return services;
    }

    private static DiffusionPipeline CreatePipeline(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DiffusionKitOptions>>().Value;
        var builder = new DiffusionPipelineBuilder().UseLoggerFactory(services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance);
        foreach (var type in services.GetServices<DenoiserType>())
        {
            builder.UseDenoiserType(type);
        }

        foreach (var factory in services.GetServices<CheckpointTextEncoderFactory>())
        {
            builder.UseCheckpointTextEncoderFactory(factory.Create);
        }

        if (!string.IsNullOrWhiteSpace(options.CheckpointPath))
        {
            builder.FromCheckpoint(options.CheckpointPath);
        }
        else
        {
            var defaults = new ContextUnetOptions();
            builder.UseVocabulary(options.Vocabulary.ToArray()).UseModel(new ContextUnetOptions
            {
                Features = options.Features ?? defaults.Features,
                ImageSize = options.ImageSize ?? defaults.ImageSize,
                InChannels = options.InChannels ?? defaults.InChannels,
                ContextSize = options.Vocabulary.Count,
            });
            if (options.TrainTimesteps is not null || options.BetaStart is not null || options.BetaEnd is not null)
            {
                var schedule = new SchedulerOptions();
                builder.UseScheduler(new SchedulerOptions
                {
                    TrainTimesteps = options.TrainTimesteps ?? schedule.TrainTimesteps,
                    BetaStart = options.BetaStart ?? schedule.BetaStart,
                    BetaEnd = options.BetaEnd ?? schedule.BetaEnd,
                });
            }
        }

        if (!SchedulerNames.TryParseSampler(options.Sampler, out var sampler))
        {
            throw new OptionsValidationException(nameof(DiffusionKitOptions), typeof(DiffusionKitOptions), [$"DiffusionKit:Sampler is '{options.Sampler}'; allowed values: {SchedulerNames.AllowedSamplerNames}."]);
        }

        builder.UseSampler(sampler, options.Steps).UseSeed(options.Seed).UseDevice(options.Device.ToLowerInvariant()).UseLimits(options.Limits).UsePrecision(options.Precision);
        if (options.GuidanceScale is { } guidance)
        {
            builder.UseGuidance(guidance);
        }

        if (options.Threads is { } threads)
        {
            builder.UseThreads(threads);
        }

        options.ConfigureBuilder?.Invoke(builder);
        return builder.Build();
    }
}
