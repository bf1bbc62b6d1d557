using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Text;
using DiffusionKit.TextEncoders.MiniLM;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Checkpoints;

/// <summary>Each encoder type survives a save/load round trip through a checkpoint folder.</summary>
public sealed class TextEncoderCheckpointTests
{
    private static readonly string[] Prompts = { "a large red circle", "a small blue square", "a purple hexagon", string.Empty };

    private static ContextUnet Unet(int contextSize) => new(new ContextUnetOptions { Features = 8, ContextSize = contextSize, ImageSize = 8 }, seed: 1);

    [Fact]
    public void A_learned_encoder_round_trips_with_identical_encodings()
    {
        using var folder = new TempDirectory();
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "a large red circle", "a small blue square" }, dimension: 6, contextSize: 5, seed: 2);
        using var model = Unet(5);
        using (no_grad())
        {
            encoder.state_dict()["null_context"].add_(1); // not the freshly initialised value
        }

        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder), encoder);
        using var loaded = DiffusionCheckpoint.Load(folder.Path);

        var reloaded = loaded.Encoder.Should().BeOfType<LearnedTextEncoder>().Subject;
        reloaded.Vocabulary.Should().Equal(encoder.Vocabulary);
        reloaded.Dimension.Should().Be(6);
        using var expected = encoder.Encode(Prompts);
        using var actual = reloaded.Encode(Prompts);
        actual.eq(expected).all().item<bool>().Should().BeTrue("the weights, the null context and <unk> are restored exactly");

        var config = JsonNode.Parse(File.ReadAllText(folder.File(DiffusionCheckpoint.ConfigFileName)))!["text_encoder"]!;
        config["type"]!.GetValue<string>().Should().Be("learned");
        config["dim"]!.GetValue<int>().Should().Be(6);
        File.Exists(folder.File(DiffusionCheckpoint.TextEncoderWeightsFileName)).Should().BeTrue();
        SafeTensorsFile.Read(folder.File(DiffusionCheckpoint.WeightsFileName)).Keys.Should().NotContain(k => k.StartsWith("token_embedding", StringComparison.Ordinal), "model.safetensors stays the U-Net alone");
    }

    [Fact]
    public void A_bag_of_words_checkpoint_is_unchanged_and_loads()
    {
        using var folder = new TempDirectory();
        var encoder = ShapesCatalog.CreateEncoder();
        using var model = Unet(12);

        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder));
        using var loaded = DiffusionCheckpoint.Load(folder.Path);

        loaded.Encoder.Should().BeOfType<BagOfWordsEncoder>().Which.Vocabulary.Should().Equal(encoder.Vocabulary);
        var config = JsonNode.Parse(File.ReadAllText(folder.File(DiffusionCheckpoint.ConfigFileName)))!["text_encoder"]!.AsObject();
        config.Select(p => p.Key).Should().BeEquivalentTo("type", "vocabulary", "stop_words");
        File.Exists(folder.File(DiffusionCheckpoint.TextEncoderWeightsFileName)).Should().BeFalse();
    }

    [Fact]
    public void A_minilm_checkpoint_needs_the_minilm_factory()
    {
        using var folder = new TempDirectory();
        using var encoder = new MiniLmTextEncoder(prompts => prompts.Select(_ => new float[MiniLmTextEncoder.Dimension]).ToArray());
        using var model = Unet(MiniLmTextEncoder.Dimension);
        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder));

        var config = JsonNode.Parse(File.ReadAllText(folder.File(DiffusionCheckpoint.ConfigFileName)))!["text_encoder"]!;
        config["type"]!.GetValue<string>().Should().Be("minilm");
        config["model"]!.GetValue<string>().Should().Be("all-MiniLM-L6-v2");
        config["dim"]!.GetValue<int>().Should().Be(384);
        ((Action)(() => DiffusionCheckpoint.Load(folder.Path))).Should().Throw<NotSupportedException>()
            .WithMessage("*minilm encoder*DiffusionKit.TextEncoders.MiniLM*MiniLmTextEncoder.FromCheckpointConfig*");

        using var loaded = DiffusionCheckpoint.Load(folder.Path, MiniLmTextEncoder.FromCheckpointConfig);
        loaded.Encoder.Should().BeOfType<MiniLmTextEncoder>().Which.ContextSize.Should().Be(384);
    }

    [Fact]
    public void Saving_a_learned_config_without_its_encoder_is_refused()
    {
        using var folder = new TempDirectory();
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red" }, dimension: 4);
        using var model = Unet(4);
        var config = DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder);

        ((Action)(() => DiffusionCheckpoint.Save(folder.Path, model, config))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("encoder");
        ((Action)(() => DiffusionCheckpoint.Describe(Unet(5), new NoiseSchedule(), encoder))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("encoder");
        ((Action)(() => DiffusionCheckpoint.Describe(Unet(2), new NoiseSchedule(), new WordEncoder("red", "blue")))).Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "encoder" && e.Message.Contains("ICheckpointTextEncoder"));
    }

    [Fact]
    public void A_learned_checkpoint_without_its_encoder_weights_fails_clearly()
    {
        using var folder = new TempDirectory();
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red" }, dimension: 4);
        using var model = Unet(4);
        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder), encoder);
        File.Delete(folder.File(DiffusionCheckpoint.TextEncoderWeightsFileName));

        ((Action)(() => DiffusionCheckpoint.Load(folder.Path))).Should().Throw<FileNotFoundException>().WithMessage("*text_encoder.safetensors*");
    }
}
