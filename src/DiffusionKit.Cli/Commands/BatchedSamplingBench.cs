using System.Diagnostics;
using System.Globalization;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using static TorchSharp.torch;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit bench --batched-sampling</c>: the demo's sampling job (48 prompts × 4 images, SDE-DPM-Solver++ 20
/// steps, guidance 3) on a demo-sized network (n_feat 64, 16×16, random weights) through the pipeline's batched engine,
/// next to the old per-prompt path (one sampler call of 4 images per prompt), and the largest per-pixel difference
/// between images sampled in the batch and alone.
/// </summary>
internal static class BatchedSamplingBench
{
    /// <summary>Runs the measurement and prints one line per figure.</summary>
    /// <param name="features">U-Net width (64 is the demo's; the FLOP figure assumes 64).</param>
    /// <param name="perPrompt">Images per prompt (4).</param>
    /// <param name="steps">Solver steps (20).</param>
    /// <param name="maxBatch">The pipeline's MaxBatchImages.</param>
    /// <param name="oldPath">Also time the old per-prompt path.</param>
    /// <param name="aloneChecks">How many images to re-sample alone for the batched-vs-alone difference.</param>
    /// <param name="precision">The pipeline's precision.</param>
    /// <param name="peak">The machine's measured fp32 FMA peak in GFLOP/s, or null to skip the % of peak.</param>
    public static void Run(int features, int perPrompt, int steps, int maxBatch, bool oldPath, int aloneChecks, Training.Precision precision, double? peak)
    {
        var inv = CultureInfo.InvariantCulture;
        const double guidance = 3;
        var encoder = ShapesCatalog.CreateEncoder();
        var prompts = ShapesCatalog.AllPrompts;
        int total = prompts.Count * perPrompt;
        var options = new ContextUnetOptions { Features = features, ImageSize = 16, ContextSize = encoder.ContextSize };
        double guidedGflop = NetworkFlops.Guided(options) / 1e9;
        string OfPeak(double gflops) => peak is { } p ? string.Create(inv, $", {100 * gflops / p:F1}% of the {p:F0} GFLOP/s fp32 FMA peak") : string.Empty;
        using var model = Native.OpenMpThreads.RunOnTransientThread(() => new ContextUnet(options, seed: 0));
        using var pipeline = new DiffusionPipelineBuilder().UseModel(model).UseTextEncoder(encoder)
            .UseSampler(SamplerKind.DpmSolverMultistepSde, steps).UseGuidance(guidance).UseSeed(1)
            .UseLimits(new PipelineLimits { MaxBatchImages = maxBatch, MaxImagesPerRequest = total, MaxQueuedImages = total })
            .UsePrecision(precision)
            .Build();
        var request = new GenerationRequest { Prompts = prompts, ImagesPerPrompt = perPrompt };

        // Warm-up (oneDNN primitive creation for the batch shapes), then the timed run.
        pipeline.GenerateAsync(new GenerationRequest { Prompts = prompts.Take(Math.Max(1, Math.Min(prompts.Count, maxBatch / perPrompt))).ToList(), ImagesPerPrompt = perPrompt, Steps = 2 }).GetAwaiter().GetResult();
        var clock = Stopwatch.StartNew();
        var result = pipeline.GenerateAsync(request).GetAwaiter().GetResult();
        double seconds = clock.Elapsed.TotalSeconds;
        double gflop = total * steps * guidedGflop;
        Console.WriteLine(string.Create(inv, $"batched sampling: {prompts.Count} prompts x {perPrompt} images, SDE-DPM-Solver++ {steps} steps, guidance {guidance}, max batch {maxBatch}, n_feat {features}, {pipeline.Precision}, {get_num_threads()} threads"));
        if (pipeline.PrecisionMeasurement is { } measurement)
        {
            Console.WriteLine("batched sampling: " + measurement);
        }

        Console.WriteLine(string.Create(inv, $"batched sampling: pipeline {seconds:F2} s, {total / seconds:F1} images/s, {gflop / seconds:F1} GFLOP/s{OfPeak(gflop / seconds)} ({gflop:F0} GFLOP: {guidedGflop * 1000:F0} MFLOP per image and step, the guided prediction with the context-free down path run once)"));

        if (oldPath)
        {
            var scheduler = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistepSde, InferenceSteps = steps });
            clock.Restart();
            using var unconditional = encoder.EncodeUnconditional();
            for (int p = 0; p < prompts.Count; p++)
            {
                using var scope = NewDisposeScope();
                var context = encoder.Encode(Enumerable.Repeat(prompts[p], perPrompt).ToList());
                new DiffusionSampler().Sample(model, scheduler, context, new SamplingOptions { Seed = 1 + p, GuidanceScale = guidance, UnconditionalContext = unconditional });
            }

            double old = clock.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(inv, $"batched sampling: old per-prompt path (one fp32 sampler call of {perPrompt} images per prompt) {old:F2} s, {total / old:F1} images/s, {gflop / old:F1} GFLOP/s{OfPeak(gflop / old)}; batched is {old / seconds:F1}x faster"));
        }

        // Batched vs alone: re-sample some images as single-image requests with their reported seeds.
        int largest = 0;
        var picks = Enumerable.Range(0, Math.Min(aloneChecks, total)).Select(i => (int)((long)i * (total - 1) / Math.Max(1, aloneChecks - 1))).Distinct().ToList();
        foreach (int k in picks)
        {
            var batched = result.Images[k];
            var alone = pipeline.GenerateAsync(new GenerationRequest { Prompts = [batched.Prompt], Seed = batched.Seed }).GetAwaiter().GetResult().Images[0];
            var a = batched.Pixels.Span;
            var b = alone.Pixels.Span;
            for (int i = 0; i < a.Length; i++)
            {
                largest = Math.Max(largest, Math.Abs(a[i] - b[i]));
            }
        }

        Console.WriteLine(string.Create(inv, $"batched sampling: largest per-pixel difference batched vs alone over {picks.Count} images: {largest}/255"));
    }
}
