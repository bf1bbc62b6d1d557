using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Checkpoints;

/// <summary>The checkpoint stores the training scheduler settings; any sampler can be used on a loaded model.</summary>
public sealed class SchedulerCheckpointTests
{
    private static void SaveTiny(string folder, SchedulerOptions scheduler)
    {
        var encoder = new BagOfWordsEncoder(["red", "blue", "circle", "square"]);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 4 }, seed: 1);
        DiffusionCheckpoint.Save(folder, model, DiffusionCheckpoint.Describe(model, scheduler, encoder));
    }

    [Fact]
    public void Scheduler_settings_round_trip_under_diffusers_names()
    {
        using var dir = new TempDirectory();
        SaveTiny(dir.Path, new SchedulerOptions { PredictionType = PredictionType.VPrediction, BetaSchedule = BetaSchedule.SquaredCosCapV2 });

        var json = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!["scheduler"]!;
        json["prediction_type"]!.GetValue<string>().Should().Be("v_prediction");
        json["beta_schedule"]!.GetValue<string>().Should().Be("squaredcos_cap_v2");
        json["_class_name"]!.GetValue<string>().Should().Be("DDIMScheduler");
        json["diffusionkit_convention"]!.GetValue<string>().Should().Be("course");
        SchedulerConfigJson.Deserialize(json.ToJsonString()).PredictionType.Should().Be(PredictionType.VPrediction, "the section is a scheduler_config.json");

        using var loaded = DiffusionCheckpoint.Load(dir.Path);
        var options = loaded.Config.Scheduler;
        options.PredictionType.Should().Be(PredictionType.VPrediction);
        options.BetaSchedule.Should().Be(BetaSchedule.SquaredCosCapV2);
        loaded.Schedule.BetaScheduleKind.Should().Be(BetaSchedule.SquaredCosCapV2);
    }

    [Theory]
    [InlineData(SamplerKind.Ddpm, null, 500)]
    [InlineData(SamplerKind.Ddim, 10, 10)]
    [InlineData(SamplerKind.DpmSolverMultistep, 8, 8)]
    [InlineData(SamplerKind.EulerAncestral, 6, 6)]
    public void A_loaded_checkpoint_samples_with_any_algorithm_without_retraining(SamplerKind algorithm, int? steps, int expectedSteps)
    {
        using var dir = new TempDirectory();
        SaveTiny(dir.Path, new SchedulerOptions());
        using var loaded = DiffusionCheckpoint.Load(dir.Path);

        var scheduler = loaded.CreateScheduler(algorithm, steps);

        scheduler.Timesteps.Should().HaveCount(expectedSteps);
        using var scope = NewDisposeScope();
        var images = new DiffusionSampler().Sample(loaded.Model, scheduler, loaded.Encoder.Encode(["red circle"]), new SamplingOptions { Seed = 3, GuidanceScale = 1 });
        images.shape.Should().Equal(1, 3, 16, 16);
        images.isnan().any().item<bool>().Should().BeFalse();
    }

    [Theory]
    [InlineData("beta_schedule", "cosine", "squaredcos_cap_v2")]
    [InlineData("prediction_type", "eps", "v_prediction")]
    [InlineData("timestep_spacing", "even", "trailing")]
    [InlineData("diffusionkit_convention", "ldm", "diffusers")]
    public void An_unknown_name_in_the_scheduler_config_fails_naming_the_field_and_the_allowed_values(string field, string bad, string allowedExample)
    {
        using var dir = new TempDirectory();
        SaveTiny(dir.Path, new SchedulerOptions());
        var json = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!;
        json["scheduler"]![field] = bad;
        File.WriteAllText(dir.File("config.json"), json.ToJsonString());

        var act = () => DiffusionCheckpoint.Load(dir.Path);

        act.Should().Throw<InvalidDataException>().Where(e => e.Message.Contains(field) && e.Message.Contains(bad) && e.Message.Contains(allowedExample));
    }

    [Fact]
    public void A_checkpoint_written_before_the_formats_were_unified_still_loads_with_its_convention()
    {
        using var dir = new TempDirectory();
        SaveTiny(dir.Path, new SchedulerOptions());
        var json = JsonNode.Parse(File.ReadAllText(dir.File("config.json")))!;
        json["scheduler"] = JsonNode.Parse("""
            { "num_train_timesteps": 400, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "prediction_type": "v_prediction",
              "timestep_spacing": "trailing", "steps_offset": 0, "clip_sample": false, "clip_sample_range": 1, "convention": "course" }
            """);
        File.WriteAllText(dir.File("config.json"), json.ToJsonString());

        using var loaded = DiffusionCheckpoint.Load(dir.Path);

        loaded.Config.Scheduler.Convention.Should().Be(ScheduleConvention.Course);
        loaded.Config.Scheduler.PredictionType.Should().Be(PredictionType.VPrediction);
        loaded.Schedule.TrainTimesteps.Should().Be(400);
    }

    [Fact]
    public void Steps_that_do_not_fit_the_algorithm_fail_clearly()
    {
        using var dir = new TempDirectory();
        SaveTiny(dir.Path, new SchedulerOptions());
        using var loaded = DiffusionCheckpoint.Load(dir.Path);

        ((Action)(() => loaded.CreateScheduler(SamplerKind.Ddim, 0))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => loaded.CreateScheduler(SamplerKind.DpmSolverMultistep, 501))).Should().Throw<ArgumentOutOfRangeException>();
        ((Action)(() => loaded.CreateScheduler(SamplerKind.Ddpm, 25))).Should().Throw<ArgumentOutOfRangeException>();
    }
}
