using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Models;

/// <summary>
/// The attention U-Net: PyTorch parity (Fixtures/pytorch_attentionunet/make_fixture.py, PyTorch 1.13, from
/// python/diffusionkit_torch/attention_unet.py), its checkpoint layout, seeding, and a built-in type that trains, saves,
/// loads without registration and generates.
/// </summary>
public sealed class AttentionUnetTests
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch_attentionunet");

    [Fact]
    public void PyTorch_weights_load_strictly_and_reproduce_PyTorch_outputs()
    {
        using var scope = torch.NewDisposeScope();
        var weights = SafeTensorsFile.Read(Path.Combine(FixtureFolder, "weights.safetensors"), out var metadata);
        var io = SafeTensorsFile.Read(Path.Combine(FixtureFolder, "io.safetensors"));
        metadata["type"].Should().Be(AttentionUnetType.TypeName);
        using var model = new AttentionUnet(new AttentionUnetOptions { Features = 16, ContextSize = 5, ImageSize = 16, InChannels = 3 }, 0);

        var result = ModuleWeights.Load(model, weights);
        model.eval();
        var eps = model.PredictNoise(io["x"], io["t"], io["c"]);
        var epsUnconditional = model.PredictNoise(io["x"], io["t"], null);

        result.Loaded.Should().HaveCount(242);
        MaxAbsDifference(eps, io["eps"]).Should().BeLessThan(1e-4);
        MaxAbsDifference(epsUnconditional, io["eps_uncond"]).Should().BeLessThan(1e-4);
        MaxAbsDifference(eps, epsUnconditional).Should().BeGreaterThan(1e-2, "the fixture must exercise the context path");
    }

    [Theory]
    [InlineData(1, 8, 1, 8)]
    [InlineData(3, 16, 5, 16)]
    [InlineData(1, 32, 384, 28)]
    [InlineData(3, 16, 7, 64)]
    public void The_expected_layout_equals_the_real_state_dict(int inChannels, int features, int contextSize, int imageSize)
    {
        var options = new AttentionUnetOptions { InChannels = inChannels, Features = features, ContextSize = contextSize, ImageSize = imageSize };
        using var model = new AttentionUnet(options, seed: 0);
        var real = model.state_dict().ToDictionary(p => p.Key, p => p.Value.shape);

        var expected = AttentionUnetType.Instance.ExpectedWeights(AttentionUnetType.Describe(options));

        expected.Select(t => t.Name).Should().BeEquivalentTo(real.Keys);
        expected.Should().AllSatisfy(t => t.Shape.Should().Equal(real[t.Name], t.Name));
        real.Keys.Any(k => k.StartsWith("down_blocks.1.attentions.0.", StringComparison.Ordinal)).Should().Be(imageSize / 2 <= 8, "attention at the half-resolution level only when its side is at most 8");
        real.Keys.Should().Contain("mid_block.attentions.0.transformer_blocks.0.attn2.to_k.weight");
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights_and_another_seed_other_weights()
    {
        var options = new AttentionUnetOptions { InChannels = 1, Features = 8, ContextSize = 3, ImageSize = 8 };
        using var a = new AttentionUnet(options, seed: 5);
        using var b = new AttentionUnet(options, seed: 5);
        using var c = new AttentionUnet(options, seed: 6);

        foreach (var (name, tensor) in a.state_dict())
        {
            tensor.eq(b.state_dict()[name]).all().item<bool>().Should().BeTrue(name);
        }

        a.state_dict()["conv_in.weight"].eq(c.state_dict()["conv_in.weight"]).all().item<bool>().Should().BeFalse();
        a.state_dict()["mid_block.attentions.0.transformer_blocks.0.norm1.weight"].eq(1).all().item<bool>().Should().BeTrue("LayerNorm starts at ones");
    }

    [Theory]
    [InlineData("Features", 12)]
    [InlineData("ImageSize", 30)]
    [InlineData("InChannels", 0)]
    [InlineData("ContextSize", 0)]
    public void Options_out_of_range_are_refused_naming_the_option(string option, int value)
    {
        var options = option switch
        {
            "Features" => new AttentionUnetOptions { Features = value },
            "ImageSize" => new AttentionUnetOptions { ImageSize = value },
            "InChannels" => new AttentionUnetOptions { InChannels = value },
            _ => new AttentionUnetOptions { ContextSize = value },
        };

        var act = () => new AttentionUnet(options, seed: 0);

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be(option);
    }

    [Fact]
    public void A_section_with_an_unknown_field_or_a_bad_size_is_refused_naming_the_field()
    {
        var section = AttentionUnetType.Describe(new AttentionUnetOptions());
        section.Settings["heads"] = System.Text.Json.JsonSerializer.SerializeToElement(8);
        var badHeight = AttentionUnetType.Describe(new AttentionUnetOptions());
        badHeight.Settings["height"] = System.Text.Json.JsonSerializer.SerializeToElement(30);

        AttentionUnetType.Instance.Invoking(t => t.Validate(section)).Should().Throw<InvalidDataException>().WithMessage("*'model.heads'*");
        AttentionUnetType.Instance.Invoking(t => t.Validate(badHeight)).Should().Throw<InvalidDataException>().WithMessage("*'model.height'*multiple of 4*");
    }

    [Fact]
    public async Task It_trains_saves_loads_without_registration_and_generates_the_same_pixels()
    {
        using var dir = new TempDirectory();
        string[] vocabulary = ["red", "blue"];
        using var model = new AttentionUnet(new AttentionUnetOptions { InChannels = 3, Features = 8, ContextSize = vocabulary.Length, ImageSize = 8 }, seed: 1);
        var losses = new List<double>();
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary(vocabulary).UseModel(model).UseSampler(SamplerKind.Ddim, 5).UseSeed(3)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 40, BatchSize = 8, LearningRate = 2e-3, Seed = 1, Precision = DiffusionKit.Training.Precision.Float32 });

        trainer.Train(new SquaresDataset(32), new ActionProgress<TrainingProgress>(p => losses.Add(p.Loss)));
        trainer.SaveCheckpoint(dir.Path);

        losses.Should().HaveCount(40).And.OnlyContain(l => double.IsFinite(l));
        losses.TakeLast(10).Average().Should().BeLessThan(losses.Take(10).Average(), "the network learns the squares");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, DiffusionCheckpoint.ConfigFileName)))!["model"]!;
        config.ToJsonString().Should().Be("""{"type":"AttentionUnet","in_channels":3,"n_feat":8,"n_cfeat":2,"height":8}""");

        using var fromTrainer = trainer.CreatePipeline();
        using var fromCheckpoint = new DiffusionPipelineBuilder().FromCheckpoint(dir.Path).UseSampler(SamplerKind.Ddim, 5).UseSeed(3).Build();
        var request = new GenerationRequest { Prompts = ["red", "blue"], Seed = 5 };
        var expected = await fromTrainer.GenerateAsync(request);
        var actual = await fromCheckpoint.GenerateAsync(request);

        fromCheckpoint.Model.Should().BeOfType<AttentionUnet>();
        for (int i = 0; i < 2; i++)
        {
            actual.Images[i].Pixels.ToArray().Should().Equal(expected.Images[i].Pixels.ToArray(), "the loaded network is the trained one");
        }

        actual.Images[0].Pixels.ToArray().Should().NotEqual(actual.Images[1].Pixels.ToArray(), "the prompt conditions the network");
    }

    private static double MaxAbsDifference(Tensor a, Tensor b)
    {
        a.shape.Should().Equal(b.shape);
        using var difference = (a - b).abs().max();
        return difference.item<float>();
    }
}
