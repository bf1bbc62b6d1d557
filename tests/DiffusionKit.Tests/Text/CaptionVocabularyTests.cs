using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Text;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Text;

/// <summary>Vocabularies built from a data set's captions, and the learned encoder's pooling, through checkpoints.</summary>
public sealed class CaptionVocabularyTests
{
    private static readonly string[] Captions = ["A photo of the Digit 7", "digit 1", "a photo of digit 7", "non-hero, side-facing"];

    [Fact]
    public void Bag_of_words_vocabulary_from_captions_drops_stop_words_and_is_sorted()
    {
        var encoder = BagOfWordsEncoder.FromCaptions(Captions);

        encoder.Vocabulary.Should().Equal("1", "7", "digit", "non-hero", "photo", "side-facing");
        encoder.EncodeToArray("the digit 7").Should().Equal(0, 1, 1, 0, 0, 0);
        ((Action)(() => BagOfWordsEncoder.FromCaptions(["a", "the of"]))).Should().Throw<ArgumentException>().WithParameterName("captions").WithMessage("*stop words*");
    }

    [Fact]
    public void A_vocabulary_from_captions_round_trips_through_a_checkpoint()
    {
        using var folder = new TempDirectory();
        var encoder = BagOfWordsEncoder.FromCaptions(Captions);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = encoder.ContextSize, ImageSize = 8 }, seed: 1);

        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder));
        using var loaded = DiffusionCheckpoint.Load(folder.Path);

        var reloaded = loaded.Encoder.Should().BeOfType<BagOfWordsEncoder>().Subject;
        reloaded.Vocabulary.Should().Equal(encoder.Vocabulary);
        using var expected = encoder.Encode(Captions);
        using var actual = reloaded.Encode(Captions);
        actual.eq(expected).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Sum_layernorm_pooling_gives_unit_variance_contexts_and_round_trips()
    {
        using var folder = new TempDirectory();
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, seed: 3);
        encoder.Pooling.Should().Be(TokenPooling.SumLayerNorm, "sum pooling + LayerNorm is the default");
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 8, ImageSize = 8 }, seed: 1);

        using var contexts = encoder.Encode(["digit 7", "digit 7 7", "photo"]);
        contexts.mean(new long[] { 1 }).abs().max().item<float>().Should().BeLessThan(1e-5f);
        contexts.var(1, unbiased: false).sub(1).abs().max().item<float>().Should().BeLessThan(1e-3f);
        (contexts[0] - contexts[1]).abs().max().item<float>().Should().BeGreaterThan(1e-3f, "a sum counts a repeated word twice");

        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder), encoder);
        JsonNode.Parse(File.ReadAllText(folder.File(DiffusionCheckpoint.ConfigFileName)))!["text_encoder"]!["pooling"]!.GetValue<string>().Should().Be("sum-layernorm");
        using var loaded = DiffusionCheckpoint.Load(folder.Path);
        var reloaded = loaded.Encoder.Should().BeOfType<LearnedTextEncoder>().Subject;
        reloaded.Pooling.Should().Be(TokenPooling.SumLayerNorm);
        using var again = reloaded.Encode(["digit 7", "digit 7 7", "photo"]);
        again.eq(contexts).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void A_learned_checkpoint_without_pooling_loads_as_mean_pooling()
    {
        using var folder = new TempDirectory();
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, seed: 3, pooling: TokenPooling.Mean);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 8, ImageSize = 8 }, seed: 1);
        DiffusionCheckpoint.Save(folder.Path, model, DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder), encoder);

        // Files written before text_encoder.pooling existed have no such field.
        string configPath = folder.File(DiffusionCheckpoint.ConfigFileName);
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["text_encoder"]!["pooling"]!.GetValue<string>().Should().Be("mean");
        config["text_encoder"]!.AsObject().Remove("pooling");
        File.WriteAllText(configPath, config.ToJsonString());

        using var loaded = DiffusionCheckpoint.Load(folder.Path);
        var reloaded = loaded.Encoder.Should().BeOfType<LearnedTextEncoder>().Subject;
        reloaded.Pooling.Should().Be(TokenPooling.Mean);
        using var expected = encoder.Encode(Captions);
        using var actual = reloaded.Encode(Captions);
        actual.eq(expected).all().item<bool>().Should().BeTrue();

        config["text_encoder"]!["pooling"] = "max";
        File.WriteAllText(configPath, config.ToJsonString());
        ((Action)(() => DiffusionCheckpoint.Load(folder.Path))).Should().Throw<InvalidDataException>().WithMessage("*pooling*max*sum-layernorm*");
    }
}
