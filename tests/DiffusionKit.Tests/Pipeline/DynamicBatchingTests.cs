using DiffusionKit.Pipeline;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>The engine: concurrent requests share sampling loops, limits and a full queue fail at once, cancellation frees the queue and the batch.</summary>
public sealed class DynamicBatchingTests
{
    private static DiffusionPipeline Pipeline(PipelineLimits limits, SamplerKind sampler = SamplerKind.DpmSolverMultistepSde, int steps = 4)
        => TinyPipelines.Builder().UseSampler(sampler, steps).UseLimits(limits).Build();

    [Fact]
    public async Task Concurrent_requests_share_one_batch_and_match_their_images_sampled_alone()
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxQueueDelay = TimeSpan.FromSeconds(2), MaxBatchImages = 7 });
        GenerationRequest[] requests =
        [
            new() { Prompts = ["red circle", "blue"], ImagesPerPrompt = 2, Seed = 3, GuidanceScale = 2 },
            new() { Prompts = ["square"], Seed = 100, GuidanceScale = 0 },
            new() { Prompts = ["blue square", ""], ImagesPerPrompt = 1, Seed = -5, GuidanceScale = 4.5 },
        ];

        // 7 images = MaxBatchImages: the batch is full, so it starts without waiting for the delay.
        var results = await Task.WhenAll(requests.Select(r => pipeline.GenerateAsync(r))).WaitAsync(TimeSpan.FromSeconds(60));

        pipeline.BatchesRun.Should().Be(1, "the three requests fit one batch of 7 images");
        int largest = 0;
        for (int r = 0; r < requests.Length; r++)
        {
            foreach (var image in results[r].Images)
            {
                var alone = await pipeline.GenerateAsync(new GenerationRequest { Prompts = [image.Prompt], Seed = image.Seed, GuidanceScale = requests[r].GuidanceScale });
                largest = Math.Max(largest, PixelDifference.Max(alone.Images[0], image));
            }
        }

        largest.Should().BeLessThanOrEqualTo(2, "an image's pixels do not depend on its batch-mates");
        results[0].Images.Select(i => i.Seed).Should().Equal(3L, 4L, 5L, 6L);
    }

    [Fact]
    public async Task Concurrent_requests_share_network_calls()
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxQueueDelay = TimeSpan.FromSeconds(5), MaxBatchImages = 4 }, SamplerKind.Ddim, steps: 3);

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], Seed = i, GuidanceScale = 1 })));

        results.Should().AllSatisfy(r => r.Images.Should().HaveCount(1));
        pipeline.BatchesRun.Should().Be(1, "four one-image requests arriving together are one sampling loop of 4 images");
        pipeline.StepsRun.Should().Be(3, "one network call per step serves all four requests (12 if they ran one by one)");
    }

    [Fact]
    public async Task Requests_with_another_step_count_or_sampler_run_their_own_loop_in_the_same_network_calls()
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxQueueDelay = TimeSpan.FromSeconds(5), MaxBatchImages = 4 }, SamplerKind.Ddim, steps: 3);
        GenerationRequest[] requests =
        [
            new() { Prompts = ["red"], Seed = 1 },
            new() { Prompts = ["red"], Steps = 2, Seed = 2 },
            new() { Prompts = ["blue"], Sampler = SamplerKind.EulerAncestral, Steps = 3, Seed = 3 },
            new() { Prompts = ["blue"], Seed = 4, GuidanceScale = 0 },
        ];

        var results = await Task.WhenAll(requests.Select(r => pipeline.GenerateAsync(r))).WaitAsync(TimeSpan.FromSeconds(60));

        pipeline.BatchesRun.Should().Be(3, "(ddim, 3) x 2, (ddim, 2) and (euler-a, 3) are three loops");
        pipeline.StepsRun.Should().Be(3, "the three loops step together, each at its own timestep (3 + 2 + 3 = 8 calls one after another)");
        for (int r = 0; r < requests.Length; r++)
        {
            var alone = await pipeline.GenerateAsync(requests[r]);
            PixelDifference.Max(alone.Images[0], results[r].Images[0]).Should().BeLessThanOrEqualTo(2, $"request {r}'s pixels do not depend on the loops it shared calls with");
        }
    }

    [Fact]
    public async Task A_request_arriving_while_a_loop_runs_joins_at_the_next_step()
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxQueueDelay = TimeSpan.Zero, MaxBatchImages = 4 }, SamplerKind.Ddim, steps: 400);
        using var cancel = new CancellationTokenSource();
        var updates = pipeline.GenerateStreamingAsync(new GenerationRequest { Prompts = ["red"], Seed = 1 }, cancel.Token).GetAsyncEnumerator();
        (await updates.MoveNextAsync()).Should().BeTrue("the long loop reported its first step");

        var joined = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Seed = 2, Steps = 3 }).WaitAsync(TimeSpan.FromSeconds(60));

        pipeline.StepsRun.Should().BeLessThan(400, "the 3-step request joined the running loop's network calls instead of waiting for its 400 steps");
        pipeline.BatchesRun.Should().Be(2);
        await cancel.CancelAsync();
        await updates.DisposeAsync();
        var alone = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Seed = 2, Steps = 3 });
        PixelDifference.Max(alone.Images[0], joined.Images[0]).Should().BeLessThanOrEqualTo(2, "joining a running loop's calls does not change an image");
    }

    [Fact]
    public async Task A_request_larger_than_a_batch_is_split_and_reassembled_in_order()
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxBatchImages = 3, MaxQueueDelay = TimeSpan.Zero }, SamplerKind.Ddim, steps: 2);

        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red", "blue", "circle"], ImagesPerPrompt = 3, Seed = 10 });

        pipeline.BatchesRun.Should().Be(3);
        result.Images.Select(i => (i.PromptIndex, i.ImageIndex, i.Seed)).Should().Equal(
            (0, 0, 10L), (0, 1, 11L), (0, 2, 12L), (1, 0, 13L), (1, 1, 14L), (1, 2, 15L), (2, 0, 16L), (2, 1, 17L), (2, 2, 18L));
    }

    [Fact]
    public async Task A_large_request_shares_batches_with_requests_behind_it_instead_of_filling_them_until_done()
    {
        // 150-step loops: the test's own thread must submit the small request within the first loop, which at 30 steps
        // (0.1 s) a loaded CI host once missed (the small request then finished after step 93).
        using var pipeline = Pipeline(new PipelineLimits { MaxBatchImages = 4, MaxQueueDelay = TimeSpan.Zero }, SamplerKind.Ddim, steps: 150);
        var large = pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 12, Seed = 1 });
        while (pipeline.StepsRun == 0)
        {
            await Task.Delay(1);
        }

        var small = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Seed = 100, Steps = 3 }).WaitAsync(TimeSpan.FromSeconds(60));
        long stepsWhenSmallFinished = pipeline.StepsRun;
        var result = await large.WaitAsync(TimeSpan.FromSeconds(60));

        stepsWhenSmallFinished.Should().BeLessThan(300, "the small request joined when the large request's first loop ended (taking its images first would have cost 450 steps)");
        result.Images.Select(i => i.Seed).Should().Equal(Enumerable.Range(1, 12).Select(i => (long)i), "the large request's images stay in order");
        var alone = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Seed = 100, Steps = 3 });
        PixelDifference.Max(alone.Images[0], small.Images[0]).Should().BeLessThanOrEqualTo(2);
    }

    public static TheoryData<string, string, GenerationRequest> OverLimits => new()
    {
        { "MaxImagesPerRequest", "ImagesPerPrompt", new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 100_000 } },
        { "MaxImagesPerRequest", "Prompts", new GenerationRequest { Prompts = Enumerable.Repeat("red", 9).ToArray() } },
        { "MaxSteps", "Steps", new GenerationRequest { Prompts = ["red"], Steps = 9 } },
        { "MaxPromptLength", "Prompts", new GenerationRequest { Prompts = [string.Join(' ', Enumerable.Repeat("red", 10))] } },
    };

    [Theory]
    [MemberData(nameof(OverLimits))]
    public async Task A_request_over_a_limit_fails_at_once_naming_the_limit(string limit, string property, GenerationRequest request)
    {
        using var pipeline = Pipeline(new PipelineLimits { MaxImagesPerRequest = 8, MaxSteps = 8, MaxPromptLength = 20 });

        var thrown = await pipeline.Invoking(p => p.GenerateAsync(request)).Should().ThrowAsync<GenerationLimitExceededException>();

        thrown.Which.LimitName.Should().Be(limit);
        thrown.Which.ParamName.Should().Be(property);
        thrown.Which.Maximum.Should().Be(limit == "MaxPromptLength" ? 20 : 8);
        thrown.Which.Should().BeAssignableTo<ArgumentException>("hosts map argument errors to 400");
        thrown.Which.Message.Should().Contain(limit);
        pipeline.QueuedImages.Should().Be(0);
        pipeline.BatchesRun.Should().Be(0);
    }

    [Fact]
    public async Task A_full_queue_rejects_at_once_with_PipelineBusyException_and_cancelling_frees_it()
    {
        // A long delay and a batch larger than the queue hold requests in the queue.
        using var pipeline = Pipeline(new PipelineLimits { MaxQueuedImages = 4, MaxImagesPerRequest = 4, MaxBatchImages = 8, MaxQueueDelay = TimeSpan.FromSeconds(10) });
        using var first = new CancellationTokenSource();
        var waiting = pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 3 }, first.Token);

        pipeline.QueuedImages.Should().Be(3);
        var busy = await pipeline.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["blue", "red"] })).Should().ThrowAsync<PipelineBusyException>();
        busy.Which.QueuedImages.Should().Be(3);
        busy.Which.MaxQueuedImages.Should().Be(4);
        busy.Which.RetryAfter.Should().BeGreaterThanOrEqualTo(TimeSpan.FromSeconds(1));

        await first.CancelAsync();
        await waiting.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        pipeline.QueuedImages.Should().Be(0, "a cancelled request leaves the queue at once");
        pipeline.BatchesRun.Should().Be(0, "nothing ran for it");
    }

    [Fact]
    public async Task Cancelling_one_request_drops_it_from_its_batch_and_a_fully_cancelled_batch_stops()
    {
        // The first two requests fill a batch of 3 images, which starts as soon as it is full; the 2 s wait only bounds how
        // late the second may arrive on a loaded test host and still join the first (500 ms lost that race once).
        using var pipeline = Pipeline(new PipelineLimits { MaxQueueDelay = TimeSpan.FromSeconds(2), MaxBatchImages = 3 }, SamplerKind.Ddim, steps: 400);
        using var cancel = new CancellationTokenSource();
        // 50 steps, so the cancellation sent after the first step's update reaches the loop long before its last step
        // even when the test host is slow to run the consumer (with 3 steps the loop could finish first).
        var kept = pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], Seed = 1, Steps = 50 });
        var dropped = ConsumeUntilFirstStepAsync(pipeline, new GenerationRequest { Prompts = ["blue", "circle"], Steps = 50 }, cancel);

        await dropped.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        var result = await kept.WaitAsync(TimeSpan.FromSeconds(60));
        var alone = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], Seed = 1, Steps = 50 });
        PixelDifference.Max(result.Images[0], alone.Images[0]).Should().BeLessThanOrEqualTo(2, "the batch-mate that left did not change this image");

        // A 400-step batch whose only request is cancelled after its first step stops long before its end.
        using var stop = new CancellationTokenSource();
        long before = pipeline.StepsRun;
        await ConsumeUntilFirstStepAsync(pipeline, new GenerationRequest { Prompts = ["red"] }, stop).Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();
        var next = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["blue"], Steps = 2 }).WaitAsync(TimeSpan.FromSeconds(60));
        next.Images.Should().HaveCount(1);
        pipeline.BatchesRun.Should().Be(4);
        (pipeline.StepsRun - before).Should().BeLessThan(200, "the cancelled 400-step loop stopped after a step or two, then the next request took 2");
    }

    [Fact]
    public async Task A_stream_cancelled_after_its_request_finished_still_throws_at_the_next_update()
    {
        using var pipeline = Pipeline(new PipelineLimits(), SamplerKind.Ddim, steps: 3);
        using var cancel = new CancellationTokenSource();
        await using var updates = pipeline.GenerateStreamingAsync(new GenerationRequest { Prompts = ["red"] }, cancel.Token).GetAsyncEnumerator();
        (await updates.MoveNextAsync()).Should().BeTrue();

        // Let the 3-step loop run out, so its remaining updates (the last step, the images) are buffered, then cancel.
        // Whether or not the images are written by then, the next update must throw.
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (pipeline.StepsRun < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        await Task.Delay(200);
        pipeline.StepsRun.Should().Be(3);
        await cancel.CancelAsync();
        await updates.Invoking(async u => await u.MoveNextAsync()).Should().ThrowAsync<OperationCanceledException>("cancelling the token ends the stream at the next update, whatever is buffered");
    }

    [Fact]
    public async Task Streaming_with_frames_carries_the_partly_denoised_first_image_of_each_prompt()
    {
        using var pipeline = Pipeline(new PipelineLimits(), SamplerKind.Ddim, steps: 3);
        var updates = new List<GenerationUpdate>();

        await foreach (var update in pipeline.GenerateStreamingAsync(new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 2, CaptureFrames = true }))
        {
            updates.Add(update);
        }

        var frames = updates.Where(u => u.Frame is not null).Select(u => u.Frame!).ToList();
        frames.Should().HaveCount(4, "steps 1 and 2 of two prompts (the last step comes with the images)");
        frames.Should().AllSatisfy(f => f.ImageIndex.Should().Be(0));
        frames.Select(f => f.PromptIndex).Should().Equal(0, 1, 0, 1);
        frames.Should().AllSatisfy(f => f.Png.Length.Should().BeGreaterThan(8));
    }

    private static async Task ConsumeUntilFirstStepAsync(DiffusionPipeline pipeline, GenerationRequest request, CancellationTokenSource cancel)
    {
        await foreach (var update in pipeline.GenerateStreamingAsync(request, cancel.Token))
        {
            await cancel.CancelAsync();
        }
    }
}
