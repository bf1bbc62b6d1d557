using DiffusionKit.Text;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Text;

public sealed class LearnedTextEncoderTests
{
    private static readonly string[] Captions = { "a large red circle", "a small blue square", "a large green triangle" };

    private static float[] Row(Tensor batch, int i) => batch[i].data<float>().ToArray();

    [Fact]
    public void FromCaptions_builds_a_sorted_vocabulary_after_pad_and_unk()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8);

        encoder.Vocabulary.Should().Equal("a", "blue", "circle", "green", "large", "red", "small", "square", "triangle");
        encoder.ContextSize.Should().Be(8);
        encoder.TokenIds("a red circle").Should().Equal(2, 7, 4);
        encoder.state_dict()["token_embedding.weight"].shape.Should().Equal(new long[] { 11, 8 }, "9 words plus <pad> and <unk>");
    }

    [Fact]
    public void Unknown_words_become_unk_and_share_one_vector()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, contextSize: 6);

        encoder.TokenIds("a purple hexagon").Should().Equal(2, LearnedTextEncoder.UnknownId, LearnedTextEncoder.UnknownId);
        using var batch = encoder.Encode(new[] { "zebra", "giraffe", "red" });

        batch.shape.Should().Equal(new long[] { 3, 6 });
        Row(batch, 0).Should().Equal(Row(batch, 1), "every unknown word is <unk>");
        Row(batch, 0).Should().NotEqual(Row(batch, 2));
    }

    [Fact]
    public void The_empty_prompt_is_the_learned_null_context()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8);
        float[] nullContext = encoder.state_dict()["null_context"].data<float>().ToArray();

        using var batch = encoder.Encode(new[] { string.Empty, "  ", "?!", "red" });
        using var unconditional = encoder.EncodeUnconditional(2);

        nullContext.Should().Contain(v => v != 0, "the null context is initialised away from zero");
        Row(batch, 0).Should().Equal(nullContext);
        Row(batch, 1).Should().Equal(nullContext);
        Row(batch, 2).Should().Equal(nullContext, "a prompt without tokens is unconditional");
        Row(batch, 3).Should().NotEqual(nullContext);
        unconditional.shape.Should().Equal(new long[] { 2, 8 });
        Row(unconditional, 1).Should().Equal(nullContext);
        encoder.named_parameters().Select(p => p.name).Should().Contain("null_context", "the null context is trainable");
    }

    [Fact]
    public void Mean_pooling_ignores_padding_and_encode_has_no_graph()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 8);

        using var alone = encoder.Encode(new[] { "red circle" });
        using var padded = encoder.Encode(new[] { "red circle", "a large red circle" });
        using var training = encoder.EncodeForTraining(new[] { "red circle" });

        (padded[0] - alone[0]).abs().max().item<float>().Should().BeLessThan(1e-5f, "padding must not change a shorter prompt's context (up to batched-matmul rounding)");
        alone.requires_grad.Should().BeFalse();
        training.requires_grad.Should().BeTrue();
        Row(training.detach(), 0).Should().Equal(Row(alone, 0));
    }

    [Fact]
    public void The_same_seed_gives_the_same_weights()
    {
        using var a = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, seed: 3);
        using var b = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, seed: 3);
        using var c = LearnedTextEncoder.FromCaptions(Captions, dimension: 8, seed: 4);

        using var ea = a.Encode(Captions);
        using var eb = b.Encode(Captions);
        using var ec = c.Encode(Captions);

        ea.eq(eb).all().item<bool>().Should().BeTrue();
        ea.eq(ec).all().item<bool>().Should().BeFalse();
    }

    [Fact]
    public void Bad_arguments_name_the_parameter()
    {
        ((Action)(() => new LearnedTextEncoder(new[] { "red" }, dimension: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("dimension");
        ((Action)(() => new LearnedTextEncoder(new[] { "red" }, dimension: 4, contextSize: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("contextSize");
        ((Action)(() => new LearnedTextEncoder(new[] { "red", "red" }, dimension: 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("vocabulary");
        ((Action)(() => new LearnedTextEncoder(new[] { "Red Circle" }, dimension: 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("vocabulary");
        ((Action)(() => new LearnedTextEncoder(Array.Empty<string>(), dimension: 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("vocabulary");
        ((Action)(() => LearnedTextEncoder.FromCaptions(new[] { "", "!!" }, dimension: 4))).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("captions");

        using var encoder = LearnedTextEncoder.FromCaptions(Captions, dimension: 4);
        ((Action)(() => encoder.Encode(new string[] { "red", null! }))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("prompts");
    }
}
