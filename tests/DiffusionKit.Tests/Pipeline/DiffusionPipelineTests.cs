using DiffusionKit.Checkpoints;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Text;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

public sealed class DiffusionPipelineTests
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public async Task Generates_the_requested_images_with_sizes_seeds_and_png_bytes()
    {
        using var pipeline = TinyPipelines.Builder(seed: 7).Build();

        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red circle", "blue square", ""], ImagesPerPrompt = 2 });

        result.Images.Should().HaveCount(6);
        result.Images.Select(i => (i.PromptIndex, i.ImageIndex, i.Seed)).Should().Equal((0, 0, 7L), (0, 1, 8L), (1, 0, 9L), (1, 1, 10L), (2, 0, 11L), (2, 1, 12L));
        result.Images.Select(i => i.Prompt).Should().Equal("red circle", "red circle", "blue square", "blue square", "", "");
        foreach (var image in result.Images)
        {
            image.Width.Should().Be(16);
            image.Height.Should().Be(16);
            image.Pixels.Length.Should().Be(16 * 16 * 3);
            image.Png.Span[..8].ToArray().Should().Equal(PngSignature);
            PngDecoder.Decode(image.Png.ToArray()).Pixels.Should().Equal(image.Pixels.ToArray(), "the PNG holds the same pixels");
        }

        result.Images[0].Pixels.ToArray().Should().NotEqual(result.Images[1].Pixels.ToArray(), "images of one prompt get different noise");
    }

    [Fact]
    public async Task Same_request_gives_identical_pixels_and_another_seed_differs()
    {
        using var pipeline = TinyPipelines.Builder().Build();
        var request = new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 2, Seed = 42, GuidanceScale = 1.0 };

        var first = await pipeline.GenerateAsync(request);
        var second = await pipeline.GenerateAsync(request);
        var other = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 2, Seed = 43, GuidanceScale = 1.0 });

        first.Images.Select(i => i.Seed).Should().Equal(42L, 43L, 44L, 45L);
        for (int i = 0; i < first.Images.Count; i++)
        {
            second.Images[i].Pixels.ToArray().Should().Equal(first.Images[i].Pixels.ToArray());
        }

        other.Images[0].Pixels.ToArray().Should().NotEqual(first.Images[0].Pixels.ToArray());
        var alone = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Seed = first.Images[3].Seed, GuidanceScale = 1.0 });
        PixelDifference.Max(alone.Images[0], first.Images[3]).Should().BeLessThanOrEqualTo(2, "an image is reproduced by its prompt alone with its reported seed");
    }

    [Fact]
    public async Task Request_overrides_sampler_and_steps()
    {
        using var pipeline = new DiffusionPipelineBuilder().UseVocabulary(TinyPipelines.Vocabulary).UseModel(TinyPipelines.ModelOptions)
            .UseScheduler(new SchedulerOptions { TrainTimesteps = 20 }).UseSampler(SamplerKind.Ddim, 4).Build();
        var steps = new List<GenerationProgress>();

        await foreach (var update in pipeline.GenerateStreamingAsync(new GenerationRequest { Prompts = ["red"], Sampler = SamplerKind.Ddpm }))
        {
            steps.Add(update.Progress);
        }

        steps.Should().HaveCount(20, "DDPM walks every one of the T = 20 timesteps when the request picks it");
    }

    public static TheoryData<string, GenerationRequest> InvalidRequests => new()
    {
        { "Prompts", new GenerationRequest { Prompts = [] } },
        { "Prompts", new GenerationRequest { Prompts = ["purple"] } },
        { "ImagesPerPrompt", new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 0 } },
        { "Steps", new GenerationRequest { Prompts = ["red"], Steps = 0 } },
        { "Steps", new GenerationRequest { Prompts = ["red"], Steps = 501 } },
        { "Steps", new GenerationRequest { Prompts = ["red"], Steps = 5, Sampler = SamplerKind.Ddpm } },
        { "GuidanceScale", new GenerationRequest { Prompts = ["red"], GuidanceScale = double.NaN } },
        { "GuidanceScale", new GenerationRequest { Prompts = ["red"], GuidanceScale = -0.5 } },
        { "Sampler", new GenerationRequest { Prompts = ["red"], Sampler = (SamplerKind)7 } },
    };

    [Theory]
    [MemberData(nameof(InvalidRequests))]
    public async Task Invalid_requests_throw_naming_the_property(string property, GenerationRequest request)
    {
        using var pipeline = TinyPipelines.Builder().Build();

        var thrown = await pipeline.Invoking(p => p.GenerateAsync(request)).Should().ThrowAsync<ArgumentException>();

        thrown.Which.ParamName.Should().Be(property);
    }

    [Fact]
    public async Task Cancellation_during_generation_throws_OperationCanceledException()
    {
        using var cts = new CancellationTokenSource();
        var encoder = new CancellingEncoder(new BagOfWordsEncoder(TinyPipelines.Vocabulary), cts);
        using var pipeline = new DiffusionPipelineBuilder().UseTextEncoder(encoder).UseModel(TinyPipelines.ModelOptions).UseSampler(SamplerKind.Ddim, 3).Build();
        var request = new GenerationRequest { Prompts = ["red", "blue"] };

        // The encoder cancels the token on the worker thread, after the call started; the sampling loop must notice.
        await pipeline.Invoking(p => p.GenerateAsync(request, cts.Token)).Should().ThrowAsync<OperationCanceledException>();

        using var streamingCts = new CancellationTokenSource();
        encoder.Source = streamingCts;
        var updates = 0;
        var streaming = async () =>
        {
            await foreach (var update in pipeline.GenerateStreamingAsync(request, streamingCts.Token))
            {
                updates++;
            }
        };
        await streaming.Should().ThrowAsync<OperationCanceledException>();
        updates.Should().Be(0, "cancellation came before the first step");

        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        await pipeline.Invoking(p => p.GenerateAsync(request, cancelled.Token)).Should().ThrowAsync<OperationCanceledException>();

        encoder.Source = null;
        var after = await pipeline.GenerateAsync(request);
        after.Images.Should().HaveCount(2, "a cancelled call leaves the pipeline usable");
    }

    [Fact]
    public async Task Stopping_a_stream_early_releases_the_pipeline()
    {
        using var pipeline = TinyPipelines.Builder().UseSampler(SamplerKind.Ddim, 50).Build();

        await foreach (var update in pipeline.GenerateStreamingAsync(new GenerationRequest { Prompts = ["red", "blue", "circle"] }))
        {
            update.Progress.Step.Should().Be(1);
            break;
        }

        var next = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], Steps = 2 }).WaitAsync(TimeSpan.FromSeconds(30));
        next.Images.Should().HaveCount(1);
    }

    [Fact]
    public async Task Streaming_reports_every_step_of_every_prompt_once_and_images_on_the_last_step()
    {
        using var pipeline = TinyPipelines.Builder().Build();
        var request = new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 2 };
        var updates = new List<GenerationUpdate>();

        await foreach (var update in pipeline.GenerateStreamingAsync(request))
        {
            updates.Add(update);
        }

        updates.Select(u => (u.Progress.PromptIndex, u.Progress.Step, u.Progress.TotalSteps, u.Progress.PromptCount))
            .Should().Equal(new[] { (0, 1, 3, 2), (1, 1, 3, 2), (0, 2, 3, 2), (1, 2, 3, 2), (0, 3, 3, 2), (1, 3, 3, 2) }, "both prompts share one batch, so their steps interleave");
        updates.Select(u => u.Images.Count).Should().Equal(0, 0, 0, 0, 2, 2);
        updates.Select(u => u.Progress.Fraction).Should().BeInAscendingOrder().And.EndWith(1.0);
        var oneShot = await pipeline.GenerateAsync(request);
        updates.SelectMany(u => u.Images).Select(i => i.Pixels.ToArray()).Should().BeEquivalentTo(
            oneShot.Images.Select(i => i.Pixels.ToArray()), o => o.WithStrictOrdering(), "streaming and one-shot calls generate the same images");
    }

    [Fact]
    public async Task Concurrent_calls_are_reproducible()
    {
        using var pipeline = TinyPipelines.Builder().Build();
        var request = new GenerationRequest { Prompts = ["red circle"], ImagesPerPrompt = 2 };

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => pipeline.GenerateAsync(request)));

        foreach (var result in results.Skip(1))
        {
            result.Images[1].Pixels.ToArray().Should().Equal(results[0].Images[1].Pixels.ToArray());
        }
    }

    [Fact]
    public async Task FromCheckpoint_reproduces_the_in_memory_pipeline()
    {
        using var folder = new TempDirectory();
        using var original = TinyPipelines.Builder(seed: 5).UseGuidance(2).Build();
        DiffusionCheckpoint.Save(folder.Path, original.Model, DiffusionCheckpoint.Describe(original.Model, original.Schedule, (BagOfWordsEncoder)original.Encoder));
        using var loaded = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).UseSampler(SamplerKind.Ddim, 3).UseGuidance(2).UseSeed(5).Build();
        var request = new GenerationRequest { Prompts = ["red square", "blue"], ImagesPerPrompt = 2 };

        var expected = await original.GenerateAsync(request);
        var actual = await loaded.GenerateAsync(request);

        loaded.Encoder.Should().BeOfType<BagOfWordsEncoder>().Which.Vocabulary.Should().Equal(TinyPipelines.Vocabulary);
        for (int i = 0; i < expected.Images.Count; i++)
        {
            actual.Images[i].Pixels.ToArray().Should().Equal(expected.Images[i].Pixels.ToArray());
        }
    }

    [Fact]
    public async Task Trainer_from_the_builder_trains_saves_and_serves()
    {
        using var folder = new TempDirectory();
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary("red", "blue").UseModel(new DiffusionKit.Models.ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 2 })
            .UseSampler(SamplerKind.Ddim, 2).BuildTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 8, Seed = 1 });
        var before = trainer.Model.parameters().First().clone();
        var reports = new List<TrainingProgress>();

        var result = trainer.Train(new SquaresDataset(16), new ActionProgress<TrainingProgress>(reports.Add));
        trainer.SaveCheckpoint(folder.Path);
        using var served = trainer.CreatePipeline();
        using var reloaded = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).UseSampler(SamplerKind.Ddim, 2).Build();
        var request = new GenerationRequest { Prompts = ["red"] };
        var fromTrainer = await served.GenerateAsync(request);
        var fromDisk = await reloaded.GenerateAsync(request);

        result.Steps.Should().Be(3);
        reports.Should().HaveCount(3);
        trainer.Model.parameters().First().eq(before).all().item<bool>().Should().BeFalse("training changed the weights");
        DiffusionCheckpoint.ReadConfig(folder.Path).Training["steps"].Should().Be("3");
        fromDisk.Images[0].Pixels.ToArray().Should().Equal(fromTrainer.Images[0].Pixels.ToArray());
        fromTrainer.Images[0].Width.Should().Be(8);
    }

    [Fact]
    public async Task Trainer_from_the_builder_trains_the_configured_prediction_type_and_records_it()
    {
        using var folder = new TempDirectory();
        var scheduler = new SchedulerOptions { PredictionType = PredictionType.VPrediction };
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary("red", "blue").UseModel(new DiffusionKit.Models.ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 2 })
            .UseScheduler(scheduler).UseSampler(SamplerKind.Ddim, 2)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 8, Seed = 1, SnrGamma = 5, WarmupSteps = 2, LearningRateSchedule = LearningRateSchedule.Cosine });

        trainer.Train(new SquaresDataset(16));
        trainer.SaveCheckpoint(folder.Path);
        using var served = trainer.CreatePipeline();
        using var reloaded = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).UseSampler(SamplerKind.Ddim, 2).Build();
        var request = new GenerationRequest { Prompts = ["blue"] };

        var config = DiffusionCheckpoint.ReadConfig(folder.Path);
        config.Scheduler.PredictionType.Should().Be(PredictionType.VPrediction);
        config.Training["snr_gamma"].Should().Be("5");
        config.Training["warmup_steps"].Should().Be("2");
        config.Training["lr_schedule"].Should().Be("cosine");
        (await reloaded.GenerateAsync(request)).Images[0].Pixels.ToArray().Should().Equal((await served.GenerateAsync(request)).Images[0].Pixels.ToArray());
    }

    [Fact]
    public void Trainer_from_the_builder_saves_a_learned_encoder_and_the_checkpoint_restores_it()
    {
        using var folder = new TempDirectory();
        var encoder = DiffusionKit.Text.LearnedTextEncoder.FromCaptions(new[] { "red square", "blue square" }, dimension: 4, seed: 2);
        using var trainer = new DiffusionPipelineBuilder().UseTextEncoder(encoder).UseModel(new DiffusionKit.Models.ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 4 })
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 8, Seed = 1 });

        trainer.Train(new SquaresDataset(16));
        trainer.SaveCheckpoint(folder.Path);
        using var reloaded = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path).Build();

        reloaded.Encoder.Should().BeOfType<DiffusionKit.Text.LearnedTextEncoder>();
        using var expected = encoder.Encode(new[] { "red square" });
        using var actual = reloaded.Encoder.Encode(new[] { "red square" });
        actual.allclose(expected, rtol: 0, atol: 0).Should().BeTrue("the learned encoder's trained weights travel with the checkpoint");
    }

    [Fact]
    public void UseScheduler_settings_are_validated_at_build_and_exclusive_with_a_checkpoint()
    {
        var bad = TinyPipelines.Builder().UseScheduler(new SchedulerOptions { TrainTimesteps = 0 });
        bad.Invoking(b => b.Build()).Should().Throw<ArgumentException>().Which.ParamName.Should().Be("TrainTimesteps");

        var both = new DiffusionPipelineBuilder().FromCheckpoint("somewhere").UseScheduler(new SchedulerOptions());
        both.Invoking(b => b.Build()).Should().Throw<InvalidOperationException>().WithMessage("*FromCheckpoint*UseScheduler*");
    }

    /// <summary>Encodes normally, then cancels <see cref="Source"/> (when set): a deterministic cancellation inside a running call.</summary>
    private sealed class CancellingEncoder(ITextEncoder inner, CancellationTokenSource? source) : ITextEncoder
    {
        public CancellationTokenSource? Source { get; set; } = source;

        public int ContextSize => inner.ContextSize;

        public TorchSharp.torch.Tensor Encode(IReadOnlyList<string> prompts)
        {
            var result = inner.Encode(prompts);
            Source?.Cancel();
            return result;
        }
    }
}
