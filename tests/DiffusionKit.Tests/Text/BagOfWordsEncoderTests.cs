using DiffusionKit.Demo.Shapes;
using DiffusionKit.Demo.Sprites;
using DiffusionKit.Text;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Text;

public sealed class BagOfWordsEncoderTests
{
    private static string[] Hot(BagOfWordsEncoder encoder, float[] row) =>
        encoder.Vocabulary.Where((_, i) => row[i] != 0).ToArray();

    [Fact]
    public void Shapes_vocabulary_has_12_words_in_a_fixed_order()
    {
        var encoder = ShapesCatalog.CreateEncoder();

        encoder.ContextSize.Should().Be(12);
        encoder.Vocabulary.Should().Equal(
            "red", "green", "blue", "yellow", "magenta", "cyan", "circle", "square", "triangle", "cross", "small", "large");
    }

    [Fact]
    public void A_caption_sets_exactly_its_words_in_any_order()
    {
        var encoder = ShapesCatalog.CreateEncoder();

        float[] row = encoder.EncodeToArray("a large red circle");

        Hot(encoder, row).Should().BeEquivalentTo("large", "red", "circle");
        row.Where(v => v != 0).Should().OnlyContain(v => v == 1f);
        encoder.EncodeToArray("Circle, RED... large!").Should().Equal(row);
        encoder.EncodeToArray("red red circle large").Should().Equal(row);
    }

    [Fact]
    public void Hyphenated_sprite_classes_stay_one_token()
    {
        var encoder = SpriteNpyDataset.CreateEncoder();

        encoder.EncodeToArray("a side-facing non-hero").Should().Equal(0, 1, 0, 0, 1);
    }

    [Fact]
    public void Unknown_words_name_the_word_the_prompt_and_the_vocabulary()
    {
        var encoder = ShapesCatalog.CreateEncoder();

        Action act = () => encoder.Encode(new[] { "a large purple circle" });

        act.Should().Throw<ArgumentException>()
            .WithMessage("*'purple'*'a large purple circle'*red, green, blue, yellow, magenta, cyan, circle, square, triangle, cross, small, large*");
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("a the")]
    public void Empty_prompts_are_the_zero_vector(string prompt)
    {
        ShapesCatalog.CreateEncoder().EncodeToArray(prompt).Should().OnlyContain(v => v == 0f).And.HaveCount(12);
    }

    [Fact]
    public void Batches_are_float32_rows_per_prompt()
    {
        var encoder = ShapesCatalog.CreateEncoder();

        using var batch = encoder.Encode(new[] { "a small blue square", "", "large cyan cross" });

        batch.shape.Should().Equal(3, 12);
        batch.dtype.Should().Be(TorchSharp.torch.ScalarType.Float32);
        float[] values = batch.data<float>().ToArray();
        values[..12].Should().Equal(encoder.EncodeToArray("a small blue square"));
        values[12..24].Should().OnlyContain(v => v == 0);
        values[24..].Should().Equal(encoder.EncodeToArray("large cyan cross"));
    }

    [Fact]
    public void Weighted_mixes_reproduce_the_course_contexts()
    {
        var encoder = SpriteNpyDataset.CreateEncoder();

        using var mixed = encoder.EncodeWeighted(new IReadOnlyDictionary<string, float>[]
        {
            new Dictionary<string, float> { ["hero"] = 1f, ["food"] = 0.6f },
            new Dictionary<string, float>(),
        });

        mixed.data<float>().ToArray().Should().Equal(1f, 0f, 0.6f, 0f, 0f, 0f, 0f, 0f, 0f, 0f);
        encoder.EncodeToArray("hero:1 food:0.6").Should().Equal(1f, 0f, 0.6f, 0f, 0f);
        encoder.EncodeToArray("spell side-facing:0.5").Should().Equal(0f, 0f, 0f, 1f, 0.5f);
    }

    [Fact]
    public void Bad_weights_and_vocabularies_are_rejected()
    {
        var encoder = SpriteNpyDataset.CreateEncoder();

        ((Action)(() => encoder.EncodeToArray("hero:1 hero"))).Should().Throw<ArgumentException>().WithMessage("*'hero'*once*");
        ((Action)(() => encoder.EncodeWeighted(new[] { new Dictionary<string, float> { ["dragon"] = 1f } })))
            .Should().Throw<ArgumentException>().WithMessage("*'dragon'*hero, non-hero, food, spell, side-facing*");
        ((Action)(() => encoder.EncodeWeighted(new[] { new Dictionary<string, float> { ["hero"] = float.NaN } })))
            .Should().Throw<ArgumentException>().WithParameterName("mixes");
        ((Action)(() => encoder.EncodeWeighted(new[] { new Dictionary<string, float> { ["hero"] = 1e30f } })))
            .Should().Throw<ArgumentException>().WithParameterName("mixes").WithMessage("*-100..100*");
        ((Action)(() => encoder.EncodeToArray("hero:1e30 food"))).Should().Throw<ArgumentException>().WithParameterName("prompts").WithMessage("*'hero:1e30'*-100..100*");
        encoder.EncodeToArray("hero:-100 food:100").Should().Equal(-100f, 0f, 100f, 0f, 0f);
        ((Action)(() => new BagOfWordsEncoder(new[] { "red", "red" }))).Should().Throw<ArgumentException>().WithParameterName("vocabulary");
        ((Action)(() => new BagOfWordsEncoder(new[] { "the" }))).Should().Throw<ArgumentException>().WithMessage("*stop word*");
        ((Action)(() => new BagOfWordsEncoder(new[] { "two words" }))).Should().Throw<ArgumentException>().WithParameterName("vocabulary");
        ((Action)(() => new BagOfWordsEncoder(Array.Empty<string>()))).Should().Throw<ArgumentException>().WithParameterName("vocabulary");
    }

    [Fact]
    public void Stop_words_are_configurable()
    {
        var encoder = new BagOfWordsEncoder(new[] { "a", "cat" }, stopWords: Array.Empty<string>());

        encoder.EncodeToArray("a cat").Should().Equal(1f, 1f);
        ((Action)(() => ShapesCatalog.CreateEncoder().EncodeToArray("an"))).Should().NotThrow();
    }
}
