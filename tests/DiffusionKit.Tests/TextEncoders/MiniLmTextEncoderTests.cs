using DiffusionKit.Checkpoints;
using DiffusionKit.TextEncoders.MiniLM;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.TextEncoders;

/// <summary>Loads the real all-MiniLM-L6-v2 once for the class.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmTextEncoder Encoder { get; } = new();

    public void Dispose() => Encoder.Dispose();
}

public sealed class MiniLmTextEncoderTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>
{
    private static double Cosine(Tensor batch, int a, int b) =>
        nn.functional.cosine_similarity(batch[a].unsqueeze(0), batch[b].unsqueeze(0)).item<float>();

    [Fact]
    public void Encodes_a_batch_to_unit_384_dimensional_rows()
    {
        using var batch = fixture.Encoder.Encode(new[] { "a large red circle", "a small blue square", "a tiny blue square" });

        fixture.Encoder.ContextSize.Should().Be(384);
        batch.shape.Should().Equal(new long[] { 3, 384 });
        batch.dtype.Should().Be(ScalarType.Float32);
        using var norms = batch.norm(1);
        norms.data<float>().ToArray().Should().OnlyContain(n => Math.Abs(n - 1f) < 1e-4f, "the package L2-normalises");
    }

    [Fact]
    public void The_same_prompt_gives_an_identical_vector()
    {
        using var first = fixture.Encoder.Encode(new[] { "a big red circle", "a big red circle" });
        using var again = fixture.Encoder.Encode(new[] { "a big red circle" });

        first[0].eq(first[1]).all().item<bool>().Should().BeTrue();
        first[0].eq(again[0]).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Synonyms_are_closer_than_different_shapes()
    {
        using var batch = fixture.Encoder.Encode(new[] { "a large red circle", "a big red circle", "a small blue square" });

        Cosine(batch, 0, 1).Should().BeGreaterThan(Cosine(batch, 0, 2));
    }

    [Fact]
    public void The_empty_prompt_is_the_zero_vector()
    {
        using var batch = fixture.Encoder.Encode(new[] { string.Empty, "   ", "red" });
        using var unconditional = fixture.Encoder.EncodeUnconditional(2);

        batch[0].abs().sum().item<float>().Should().Be(0f);
        batch[1].abs().sum().item<float>().Should().Be(0f);
        batch[2].abs().sum().item<float>().Should().BeGreaterThan(0f);
        unconditional.abs().sum().item<float>().Should().Be(0f);
    }

    [Fact]
    public void Each_distinct_prompt_runs_the_model_once()
    {
        var seen = new List<string[]>();
        using var encoder = new MiniLmTextEncoder(prompts =>
        {
            seen.Add(prompts);
            return prompts.Select(p => Enumerable.Repeat((float)p.Length, MiniLmTextEncoder.Dimension).ToArray()).ToArray();
        });

        using var a = encoder.Encode(new[] { "red", "blue", "red", string.Empty });
        using var b = encoder.Encode(new[] { "blue", "red" });
        using var c = encoder.Encode(new[] { "red", "green" });

        encoder.ModelCalls.Should().Be(2);
        seen.Should().HaveCount(2);
        seen[0].Should().Equal("red", "blue");
        seen[1].Should().Equal("green");
        encoder.CachedPrompts.Should().Be(3);
        b[1].eq(a[0]).all().item<bool>().Should().BeTrue();
        c[1][0].item<float>().Should().Be(5f);
    }

    [Fact]
    public void Concurrent_calls_share_the_cache()
    {
        int calls = 0;
        using var encoder = new MiniLmTextEncoder(prompts =>
        {
            Interlocked.Increment(ref calls);
            Thread.Sleep(20);
            return prompts.Select(_ => new float[MiniLmTextEncoder.Dimension]).ToArray();
        });

        Parallel.For(0, 8, _ => encoder.Encode(new[] { "same prompt" }).Dispose());

        calls.Should().Be(1);
    }

    [Fact]
    public void Checkpoint_config_round_trips_and_rejects_other_models()
    {
        var config = fixture.Encoder.DescribeForCheckpoint();

        config.Type.Should().Be(CheckpointConfig.TextEncoderConfig.MiniLmType);
        config.ModelName.Should().Be("all-MiniLM-L6-v2");
        config.Dimension.Should().Be(384);
        MiniLmTextEncoder.FromCheckpointConfig(new CheckpointConfig.TextEncoderConfig()).Should().BeNull("bag-of-words is not its type");
        ((Action)(() => MiniLmTextEncoder.FromCheckpointConfig(new CheckpointConfig.TextEncoderConfig { Type = "minilm", Dimension = 768 }))).Should().Throw<InvalidDataException>().WithMessage("*768*");
    }

    [Fact]
    public void Bad_input_and_use_after_dispose_are_reported()
    {
        var encoder = new MiniLmTextEncoder(prompts => prompts.Select(_ => new float[MiniLmTextEncoder.Dimension]).ToArray());

        ((Action)(() => encoder.Encode(new string[] { "red", null! }))).Should().Throw<ArgumentNullException>().Which.ParamName.Should().Be("prompts");
        encoder.Dispose();
        ((Action)(() => encoder.Encode(new[] { "red" }))).Should().Throw<ObjectDisposedException>();
    }
}
