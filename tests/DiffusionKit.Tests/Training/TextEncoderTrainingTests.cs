using DiffusionKit.Pipeline;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Text;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

/// <summary>How the trainer uses the prompt encoder: its unconditional context for dropout, and joint training of a learned encoder.</summary>
public sealed class TextEncoderTrainingTests
{
    [Fact]
    public void Dropped_contexts_are_the_encoders_empty_prompt_context_not_zeros()
    {
        var encoder = new OffsetWordEncoder("red", "blue");
        using var model = new ContextRecordingDenoiser(contextSize: 2);

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 8, ContextDropout = 1.0 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(8), encoder);

        model.Contexts.Should().HaveCount(16);
        model.Contexts.Should().OnlyContain(c => c.SequenceEqual(new[] { OffsetWordEncoder.Unconditional, OffsetWordEncoder.Unconditional }));
    }

    [Fact]
    public void Without_dropout_every_context_is_its_caption()
    {
        var encoder = new OffsetWordEncoder("red", "blue");
        using var model = new ContextRecordingDenoiser(contextSize: 2);

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 8, ContextDropout = 0 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(8), encoder);

        model.Contexts.Should().HaveCount(16).And.OnlyContain(c => c.Sum() == 1f, "one-hot captions, none replaced");
    }

    [Fact]
    public void Some_contexts_are_dropped_at_a_partial_rate()
    {
        var encoder = new OffsetWordEncoder("red", "blue");
        using var model = new ContextRecordingDenoiser(contextSize: 2);

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 4, BatchSize = 16, ContextDropout = 0.5, Seed = 2 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(16), encoder);

        int dropped = model.Contexts.Count(c => c[0] == OffsetWordEncoder.Unconditional);
        dropped.Should().BeInRange(12, 52, "about half of 64 samples");
        model.Contexts.Should().OnlyContain(c => c.Sum() == 1f || c[0] == OffsetWordEncoder.Unconditional, "a context is either its caption or the unconditional one, never a mix");
    }

    [Fact]
    public void A_learned_encoder_is_trained_jointly_with_the_unet()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red", "blue" }, dimension: 8, seed: 1);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 8, ImageSize = 8 }, seed: 1);
        var before = encoder.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());
        var unetBefore = model.state_dict()["contextembed1.model.0.weight"].detach().clone();

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 8, ContextDropout = 0.5, Seed = 3 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(8), encoder);

        var after = encoder.state_dict();
        long redId = encoder.TokenIds("red")[0];
        long unknownId = LearnedTextEncoder.UnknownId;
        after["token_embedding.weight"][redId].eq(before["token_embedding.weight"][redId]).all().item<bool>().Should().BeFalse("gradients reach the embedding of a training word");
        after["token_embedding.weight"][unknownId].eq(before["token_embedding.weight"][unknownId]).all().item<bool>().Should().BeTrue("<unk> never occurs in training");
        after["projection.0.weight"].eq(before["projection.0.weight"]).all().item<bool>().Should().BeFalse();
        after["null_context"].eq(before["null_context"]).all().item<bool>().Should().BeFalse("dropped samples train the null embedding");
        model.state_dict()["contextembed1.model.0.weight"].eq(unetBefore).all().item<bool>().Should().BeFalse();
    }

    [Fact]
    public void Dropout_with_a_learned_encoder_uses_its_null_context()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red", "blue" }, dimension: 4, seed: 1);
        float[] nullContext = encoder.state_dict()["null_context"].data<float>().ToArray();
        using var model = new ContextRecordingDenoiser(contextSize: 4);

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 8, ContextDropout = 1.0 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(8), encoder);

        model.Contexts.Should().HaveCount(8).And.OnlyContain(c => c.SequenceEqual(nullContext));
    }

    [Fact]
    public void Joint_training_with_ema_keeps_memory_flat_and_averages_the_encoder()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red", "blue" }, dimension: 4, seed: 1);
        using var model = new TinyDenoiser();
        var before = encoder.state_dict()["token_embedding.weight"].detach().clone();
        var counts = new List<long>();
        var progress = new ActionProgress<TrainingProgress>(_ => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 30, BatchSize = 8, EmaDecay = 0.99, LearningRate = 1e-2 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(16), encoder, progress);

        counts.Skip(5).Max().Should().BeLessThanOrEqualTo(counts[4], "each step must dispose everything it created, encoder outputs included");
        encoder.state_dict()["token_embedding.weight"].eq(before).all().item<bool>().Should().BeFalse("the averaged encoder weights are copied back");
    }
}
