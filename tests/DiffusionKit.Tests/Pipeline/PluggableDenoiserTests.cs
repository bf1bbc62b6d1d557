using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>A denoiser other than the context U-Net, registered through the public API, trains, round-trips through a checkpoint and serves.</summary>
public sealed class PluggableDenoiserTests
{
    private static readonly string[] Vocabulary = ["red", "blue"];

    [Fact]
    public async Task A_second_denoiser_trains_saves_loads_by_its_type_and_generates_the_same_pixels()
    {
        using var dir = new TempDirectory();
        using var model = new TinyConvDenoiser(channels: 3, imageSize: 8, contextSize: Vocabulary.Length, hidden: 16, seed: 1);
        var losses = new List<double>();
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).UseSampler(SamplerKind.Ddim, 5).UsePrecision(DiffusionKit.Training.Precision.Float32).UseSeed(3)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 40, BatchSize = 8, LearningRate = 1e-3, MaxGradNorm = 1, Seed = 1, Precision = DiffusionKit.Training.Precision.Float32 });

        var result = trainer.Train(new SquaresDataset(32), new Progress(p => losses.Add(p.Loss)));
        trainer.SaveCheckpoint(dir.Path);

        result.Steps.Should().Be(40);
        losses.Should().HaveCount(40).And.OnlyContain(l => double.IsFinite(l));
        losses.TakeLast(10).Average().Should().BeLessThan(losses.Take(10).Average(), "the network learns the squares");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, DiffusionCheckpoint.ConfigFileName)))!["model"]!;
        config.ToJsonString().Should().Be("""{"type":"TinyConvNet","channels":3,"image_size":8,"context_size":2,"hidden":16}""");

        using var loaded = DiffusionCheckpoint.Load(dir.Path, null, [TinyConvDenoiserType.Instance]);
        loaded.Model.Should().BeOfType<TinyConvDenoiser>();
        foreach (var (name, tensor) in model.state_dict())
        {
            loaded.Model.state_dict()[name].eq(tensor).all().item<bool>().Should().BeTrue($"{name} round-trips bit for bit");
        }

        using var fromTrainer = trainer.CreatePipeline();
        using var fromCheckpoint = new DiffusionPipelineBuilder().FromCheckpoint(dir.Path).UseDenoiserType(TinyConvDenoiserType.Instance)
            .UseSampler(SamplerKind.Ddim, 5).UsePrecision(DiffusionKit.Training.Precision.Float32).UseSeed(3).Build();
        var request = new GenerationRequest { Prompts = ["red", "blue"], Seed = 5 };
        var expected = await fromTrainer.GenerateAsync(request);
        var actual = await fromCheckpoint.GenerateAsync(request);

        fromCheckpoint.Model.Should().BeOfType<TinyConvDenoiser>();
        fromCheckpoint.Precision.Should().Be(DiffusionKit.Training.Precision.Float32);
        actual.Images.Should().HaveCount(2);
        actual.Images.Should().OnlyContain(i => i.Width == 8 && i.Height == 8);
        for (int i = 0; i < 2; i++)
        {
            actual.Images[i].Pixels.ToArray().Should().Equal(expected.Images[i].Pixels.ToArray(), "the loaded network is the trained one");
        }

        actual.Images[0].Pixels.ToArray().Should().NotEqual(actual.Images[1].Pixels.ToArray(), "the prompt conditions the network");
    }

    [Fact]
    public void Loading_an_unregistered_type_names_the_field_the_type_the_registered_types_and_how_to_register()
    {
        using var dir = new TempDirectory();
        using var model = new TinyConvDenoiser(3, 8, Vocabulary.Length, 16, seed: 2);
        using (var trainer = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).BuildTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 2 }))
        {
            trainer.SaveCheckpoint(dir.Path);
        }

        var build = () => new DiffusionPipelineBuilder().FromCheckpoint(dir.Path).Build();
        var load = () => DiffusionCheckpoint.Load(dir.Path);
        var validate = () => DiffusionCheckpoint.Validate(dir.Path);

        foreach (var act in new Func<object>[] { build, load, validate })
        {
            act.Should().Throw<InvalidDataException>().Which.Message.Should()
                .Contain("config.json").And.Contain("'model.type' is 'TinyConvNet'").And.Contain("registered types: ContextUnet").And.Contain("UseDenoiserType");
        }

        DiffusionCheckpoint.Validate(dir.Path, [TinyConvDenoiserType.Instance]).Model.Type.Should().Be("TinyConvNet");
    }

    [Fact]
    public void A_registered_type_bounds_its_section_and_its_weights_before_anything_is_built()
    {
        using var dir = new TempDirectory();
        using var model = new TinyConvDenoiser(3, 8, Vocabulary.Length, 16, seed: 2);
        using (var trainer = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).BuildTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 2 }))
        {
            trainer.SaveCheckpoint(dir.Path);
        }

        string path = Path.Combine(dir.Path, DiffusionCheckpoint.ConfigFileName);
        var json = JsonNode.Parse(File.ReadAllText(path))!;
        json["model"]!["hidden"] = 1000;
        File.WriteAllText(path, json.ToJsonString());
        ((Action)(() => DiffusionCheckpoint.Validate(dir.Path, [TinyConvDenoiserType.Instance]))).Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain(path).And.Contain("'model.hidden' is 1000");

        json["model"]!["hidden"] = 32;
        File.WriteAllText(path, json.ToJsonString());
        ((Action)(() => DiffusionCheckpoint.Load(dir.Path, null, [TinyConvDenoiserType.Instance]))).Should().Throw<InvalidDataException>()
            .Which.Message.Should().Contain("model.safetensors").And.Contain("the TinyConvNet model").And.Contain("model.hidden 32");
    }

    [Fact]
    public void Two_different_types_with_one_name_are_refused()
    {
        var duplicate = () => DiffusionCheckpoint.ReadConfig("unused", [TinyConvDenoiserType.Instance, new ShadowContextUnetType()]);

        duplicate.Should().Throw<ArgumentException>().Which.Message.Should().Contain("'ContextUnet'");
    }

    [Fact]
    public void BFloat16_sampling_is_refused_for_a_network_other_than_the_context_unet()
    {
        using var model = new TinyConvDenoiser(3, 8, Vocabulary.Length, 16, seed: 2);
        var build = () => new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).UsePrecision(DiffusionKit.Training.Precision.BFloat16).Build();

        build.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("precision");
        using var auto = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model).Build();
        auto.Precision.Should().Be(DiffusionKit.Training.Precision.Float32, "Auto samples other networks in float32");
        auto.PrecisionMeasurement.Should().BeNull();
    }

    private sealed class Progress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }

    /// <summary>A type that claims the built-in name.</summary>
    private sealed class ShadowContextUnetType() : DenoiserType(ContextUnetType.TypeName)
    {
        public override DenoiserShape Validate(CheckpointConfig.ModelConfig section) => ContextUnetType.Instance.Validate(section);

        public override IReadOnlyList<WeightSpec> ExpectedWeights(CheckpointConfig.ModelConfig section) => ContextUnetType.Instance.ExpectedWeights(section);

        public override DenoiserModule Create(CheckpointConfig.ModelConfig section) => ContextUnetType.Instance.Create(section);
    }
}
