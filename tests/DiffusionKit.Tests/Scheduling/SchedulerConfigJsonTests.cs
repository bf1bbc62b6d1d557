using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Scheduling;

public sealed class SchedulerConfigJsonTests
{
    [Fact]
    public void Options_round_trip_with_diffusers_names()
    {
        var options = new SchedulerOptions
        {
            Algorithm = SamplerKind.DpmSolverMultistep,
            TrainTimesteps = 1000,
            BetaStart = 0.00085,
            BetaEnd = 0.012,
            BetaSchedule = BetaSchedule.ScaledLinear,
            PredictionType = PredictionType.VPrediction,
            TimestepSpacing = TimestepSpacing.Leading,
            StepsOffset = 1,
            ClipSample = true,
            ClipSampleRange = 1.5,
            Eta = 0.3,
            VarianceType = VarianceType.FixedSmall,
            SolverOrder = 1,
            LowerOrderFinal = false,
            FinalSigmas = FinalSigmas.SigmaMin,
            SetAlphaToOne = false,
            Convention = ScheduleConvention.Course,
            InferenceSteps = 20,
        };

        string json = SchedulerConfigJson.Serialize(options);
        json.Should().Contain("\"beta_schedule\": \"scaled_linear\"").And.Contain("\"prediction_type\": \"v_prediction\"")
            .And.Contain("\"_class_name\": \"DPMSolverMultistepScheduler\"").And.Contain("\"timestep_spacing\": \"leading\"");

        var back = SchedulerConfigJson.Deserialize(json);
        back.Should().BeEquivalentTo(options);
    }

    [Fact]
    public void A_diffusers_config_without_our_convention_key_reads_as_diffusers_convention()
    {
        // Keys as in a diffusers DDIMScheduler scheduler_config.json; unknown keys (_diffusers_version) are ignored.
        const string json = """
            {"_class_name": "DDIMScheduler", "_diffusers_version": "0.27.0", "beta_end": 0.012, "beta_schedule": "scaled_linear",
             "beta_start": 0.00085, "clip_sample": false, "num_train_timesteps": 1000, "prediction_type": "epsilon",
             "set_alpha_to_one": false, "steps_offset": 1, "thresholding": false, "timestep_spacing": "leading", "trained_betas": null}
            """;
        var options = SchedulerConfigJson.Deserialize(json);
        options.Convention.Should().Be(ScheduleConvention.Diffusers);
        options.Algorithm.Should().Be(SamplerKind.Ddim);
        options.BetaSchedule.Should().Be(BetaSchedule.ScaledLinear);
        options.StepsOffset.Should().Be(1);
        SchedulerFactory.Create(new SchedulerOptions
        {
            Algorithm = options.Algorithm,
            Convention = options.Convention,
            TrainTimesteps = options.TrainTimesteps,
            TimestepSpacing = options.TimestepSpacing,
            StepsOffset = options.StepsOffset,
            InferenceSteps = 5,
        }).Timesteps.Should().Equal(801, 601, 401, 201, 1);
    }

    [Theory]
    [InlineData("""{"beta_schedule": "cosine"}""", "beta_schedule", "linear, scaled_linear, squaredcos_cap_v2")]
    [InlineData("""{"prediction_type": "eps"}""", "prediction_type", "epsilon, v_prediction, sample")]
    [InlineData("""{"timestep_spacing": "uniform"}""", "timestep_spacing", "linspace, leading, trailing")]
    [InlineData("""{"_class_name": "PNDMScheduler"}""", "_class_name", "DDIMScheduler")]
    [InlineData("""{"diffusionkit_convention": "mine"}""", "diffusionkit_convention", "course, diffusers")]
    [InlineData("""{"thresholding": true}""", "thresholding", "not supported")]
    [InlineData("""{"use_karras_sigmas": true}""", "use_karras_sigmas", "not supported")]
    [InlineData("""{"algorithm_type": "dpmsolver"}""", "algorithm_type", "sde-dpmsolver++")]
    [InlineData("""{"num_train_timesteps": "1000"}""", "num_train_timesteps", "an integer")]
    [InlineData("""{"clip_sample": 1}""", "clip_sample", "true or false")]
    [InlineData("""[1, 2]""", "JSON object", "JSON object")]
    [InlineData("""{"beta_start": """, "not valid JSON", "not valid JSON")]
    public void Bad_configs_fail_naming_the_key(string json, string key, string allowed)
    {
        var act = () => SchedulerConfigJson.Deserialize(json);
        act.Should().Throw<ArgumentException>().Where(e => e.Message.Contains(key) && e.Message.Contains(allowed));
    }

    [Fact]
    public void The_sde_variant_is_dpm_solver_with_algorithm_type_sde_dpmsolver_plus_plus()
    {
        var sde = SchedulerConfigJson.Deserialize("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "sde-dpmsolver++"}""");
        var ode = SchedulerConfigJson.Deserialize("""{"_class_name": "DPMSolverMultistepScheduler", "algorithm_type": "dpmsolver++"}""");

        sde.Algorithm.Should().Be(SamplerKind.DpmSolverMultistepSde);
        ode.Algorithm.Should().Be(SamplerKind.DpmSolverMultistep);
        var written = System.Text.Json.Nodes.JsonNode.Parse(SchedulerConfigJson.Serialize(sde))!;
        written["_class_name"]!.GetValue<string>().Should().Be("DPMSolverMultistepScheduler");
        written["algorithm_type"]!.GetValue<string>().Should().Be("sde-dpmsolver++");
        SchedulerConfigJson.Deserialize(SchedulerConfigJson.Serialize(sde)).Algorithm.Should().Be(SamplerKind.DpmSolverMultistepSde);
        SchedulerConfigJson.Deserialize(SchedulerConfigJson.Serialize(ode)).Algorithm.Should().Be(SamplerKind.DpmSolverMultistep);
    }

    [Fact]
    public void Out_of_range_values_fail_validation_naming_the_option()
    {
        var act = () => SchedulerConfigJson.Deserialize("""{"num_train_timesteps": 1000, "num_inference_steps": 1001}""");
        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("InferenceSteps");
    }
}
