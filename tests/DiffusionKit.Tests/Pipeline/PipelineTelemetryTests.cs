using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using DiffusionKit.Pipeline;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>The "DiffusionKit" meter and activity source, as OpenTelemetry would see them.</summary>
public sealed class PipelineTelemetryTests
{
    [Fact]
    public async Task The_meter_reports_queue_batches_images_durations_and_rejections_by_reason()
    {
        using var pipeline = TinyPipelines.Builder().UseSampler(SamplerKind.Ddim, 2)
            .UseLimits(new PipelineLimits { MaxImagesPerRequest = 4, MaxQueuedImages = 4, MaxBatchImages = 4, MaxQueueDelay = TimeSpan.FromSeconds(10) }).Build();
        var measurements = new ConcurrentBag<(string Name, double Value, string? Reason)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter, pipeline.Meter))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            string? reason = null;
            foreach (var tag in tags)
            {
                reason = tag.Key == "reason" ? tag.Value as string : reason;
            }

            measurements.Add((instrument.Name, value, reason));
        }

        listener.SetMeasurementEventCallback<int>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<long>((i, v, t, _) => Record(i, v, t));
        listener.SetMeasurementEventCallback<double>((i, v, t, _) => Record(i, v, t));
        listener.Start();

        // 4 images fill a batch and run at once; the next 3 wait (for up to 10 s) for more, holding the queue.
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 2 });
        using var hold = new CancellationTokenSource();
        var held = pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 3 }, hold.Token);
        listener.RecordObservableInstruments();
        await pipeline.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 2 })).Should().ThrowAsync<PipelineBusyException>();
        await pipeline.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["red"], ImagesPerPrompt = 5 })).Should().ThrowAsync<GenerationLimitExceededException>();
        await pipeline.Invoking(p => p.GenerateAsync(new GenerationRequest { Prompts = ["purple"] })).Should().ThrowAsync<ArgumentException>();
        await hold.CancelAsync();
        await held.Invoking(t => t).Should().ThrowAsync<OperationCanceledException>();

        result.Images.Should().HaveCount(4);
        measurements.Where(m => m.Name == "diffusionkit.images.generated").Sum(m => m.Value).Should().Be(4);
        measurements.Where(m => m.Name == "diffusionkit.batch.size").Select(m => m.Value).Should().Equal([4.0, 4.0], "one measurement per network call: the 4-image loop's two steps");
        measurements.Should().Contain(m => m.Name == "diffusionkit.request.duration" && m.Value > 0);
        measurements.Should().Contain(m => m.Name == "diffusionkit.request.queue_wait" && m.Value >= 0);
        measurements.Should().Contain(m => m.Name == "diffusionkit.queue.images" && m.Value == 3, "three images were waiting when the gauge was read");
        measurements.Where(m => m.Name == "diffusionkit.requests.rejected").Select(m => m.Reason).Should().BeEquivalentTo(["busy", "MaxImagesPerRequest", "invalid"]);
    }

    [Fact]
    public async Task Each_request_is_one_activity_with_a_truncated_prompt()
    {
        string prompt = string.Join(' ', Enumerable.Repeat("blue", 40)) + " circle";
        var seen = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "DiffusionKit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity => seen.Add(activity),
        };
        ActivitySource.AddActivityListener(listener);
        using var pipeline = TinyPipelines.Builder().UseSampler(SamplerKind.Ddim, 2).Build();

        await pipeline.GenerateAsync(new GenerationRequest { Prompts = [prompt], ImagesPerPrompt = 2, Seed = 77 });

        var mine = seen.Where(a => a.GetTagItem("diffusionkit.seed") is long seed && seed == 77).ToList();
        mine.Should().ContainSingle().Which.OperationName.Should().Be("diffusionkit.generate");
        var tag = (string)mine[0].GetTagItem("diffusionkit.prompt")!;
        tag.Length.Should().BeLessThanOrEqualTo(65, "prompts are user data and are truncated in traces");
        prompt.Should().StartWith(tag.TrimEnd('…'));
        mine[0].GetTagItem("diffusionkit.images").Should().Be(2L);
    }
}
