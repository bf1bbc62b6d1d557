using DiffusionKit.Demo.Shapes;
using DiffusionKit.Demo.Sprites;
using DiffusionKit.Pipeline;
using System.Diagnostics;
using System.Globalization;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit bench</c>: the course configuration's training throughput at batch 100, DDPM sampling time for
/// 32 images × 500 steps, and memory (peak RSS, RSS growth across steps).
/// </summary>
internal static class BenchCommand
{
    public const string Usage = """
        diffusionkit bench [--train-steps 40] [--warmup-steps 5] [--batch 100] [--sample-images 32] [--sample-steps 500]
                           [--features 64] [--threads N] [--skip-train] [--skip-sample] [--precision fp32|bf16|auto] [--plain-baseline] [--skip-peak]
          --plain-baseline also times a hand-written TorchSharp training loop on the same network, for comparison.
          Measures the course configuration (ContextUnet n_feat 64, 16x16, 5 context features). First measures the machine's
          fp32 FMA peak (GFLOP/s over the threads used) and reports every figure also as GFLOP/s and % of that peak.
        diffusionkit bench --batched-sampling [--max-batch 16] [--per-prompt 4] [--solver-steps 20] [--features 64] [--old-path] [--alone-checks 8]
                           [--precision fp32|bf16|auto] [--skip-peak] [--threads N]
          The demo's sampling job (48 prompts x per-prompt images, SDE-DPM-Solver++, guidance 3) through the batched pipeline
          (random weights), optionally next to the old per-prompt path, and the largest difference batched vs alone.
        """;

    public static int Run(CliArguments args)
    {
        if (args.Flag("batched-sampling"))
        {
            return RunBatchedSampling(args);
        }

        int trainSteps = args.Int("train-steps", 40, 1);
        int warmup = args.Int("warmup-steps", 5, 1);
        int batch = args.Int("batch", 100, 1);
        int sampleImages = args.Int("sample-images", 32, 1);
        int sampleSteps = args.Int("sample-steps", 500, 1, 500);
        int features = args.Int("features", 64, 8);
        int? threads = args.OptionalInt("threads", 1, 256);
        bool skipTrain = args.Flag("skip-train");
        bool plain = args.Flag("plain-baseline");
        var precision = PrecisionNames.Parse(args.String("precision") ?? "fp32");
        bool skipSample = args.Flag("skip-sample");
        bool skipPeak = args.Flag("skip-peak");
        args.EnsureAllUsed();
        if (threads is { } t)
        {
            torch.set_num_threads(t);
        }

        var inv = CultureInfo.InvariantCulture;

        Console.WriteLine(string.Create(inv, $"threads={torch.get_num_threads()} features={features} batch={batch}"));
        var options = new ContextUnetOptions { Features = features, ContextSize = 5, ImageSize = 16 };
        double forwardFlops = NetworkFlops.Forward(options);
        double? peak = null;
        if (!skipPeak)
        {
            var measured = FmaPeak.Measure(torch.get_num_threads());
            peak = measured.GigaFlops;
            Console.WriteLine(string.Create(inv, $"peak: fp32 FMA {measured.GigaFlops:F1} GFLOP/s ({measured.Threads} threads, {measured.VectorBits}-bit vectors)"));
        }

        Console.WriteLine(string.Create(inv, $"network: {forwardFlops / 1e6:F1} MFLOP forward per image (training step ~3x)"));
        string Rate(double imagesPerSecond, double flopsPerImage)
        {
            double giga = imagesPerSecond * flopsPerImage / 1e9;
            return peak is { } p
                ? string.Create(inv, $"{giga:F1} GFLOP/s, {100 * giga / p:F1}% of peak")
                : string.Create(inv, $"{giga:F1} GFLOP/s");
        }

        using var model = new ContextUnet(options, seed: 0);
        var schedule = new NoiseSchedule();
        var encoder = SpriteNpyDataset.CreateEncoder();

        if (!skipTrain)
        {
            var shapes = new ShapesDataset(new ShapesDatasetOptions { Count = Math.Max(batch * 4, 400), Seed = 1 });
            var data = new RelabelledDataset(shapes, i => SpriteNpyDataset.ClassNames[i % 5]);
            var stamps = new List<(int Step, long Ticks, double Rss)>();
            var clock = Stopwatch.StartNew();
            var progress = new ActionProgress<TrainingProgress>(p => stamps.Add((p.Step, clock.ElapsedTicks, ProcessMemory.ResidentMiB())));
            var trained = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = warmup + trainSteps, BatchSize = batch, Seed = 1, Precision = precision, OnPrecisionMeasured = m => Console.WriteLine(m.ToString()) })
                .Train(model, new DdpmScheduler(schedule), data, encoder, progress);
            var start = stamps[warmup - 1];
            var end = stamps[^1];
            double seconds = (end.Ticks - start.Ticks) / (double)Stopwatch.Frequency;
            double imagesPerSecond = trainSteps * batch / seconds;
            Console.WriteLine(string.Create(inv, $"train: {trained.Precision} {imagesPerSecond:F1} images/s ({Rate(imagesPerSecond, 3 * forwardFlops)}) over {trainSteps} steps of batch {batch} (after {warmup} warm-up steps)"));
            var middle = stamps[warmup - 1 + (trainSteps / 2)];
            Console.WriteLine(string.Create(inv, $"train: RSS after warm-up {start.Rss:F0} MiB, half-way {middle.Rss:F0} MiB, at the end {end.Rss:F0} MiB"));
        }

        if (plain)
        {
            double baseline = PlainTrainingLoop.Run(options, batch, warmup, trainSteps);
            Console.WriteLine(string.Create(inv, $"train: plain hand-written fp32 loop {baseline:F1} images/s ({Rate(baseline, 3 * forwardFlops)}) over {trainSteps} steps of batch {batch}"));
        }

        if (!skipSample)
        {
            model.eval();
            using var scope = NewDisposeScope();
            var prompts = Enumerable.Range(0, sampleImages).Select(i => SpriteNpyDataset.ClassNames[i % 5]).ToList();
            var context = encoder.Encode(prompts);
            var rss = new List<double>();
            var progress = new ActionProgress<SamplingProgress>(p =>
            {
                if (p.Step % 50 == 0)
                {
                    rss.Add(ProcessMemory.ResidentMiB());
                }
            });
            INoiseScheduler scheduler = sampleSteps == schedule.TrainTimesteps ? new DdpmScheduler(schedule) : new DdimScheduler(schedule, sampleSteps);
            var clock = Stopwatch.StartNew();
            var samplePrecision = precision;
            if (samplePrecision == Precision.Auto)
            {
                var measurement = PrecisionProbe.MeasureSampling(model, sampleImages);
                Console.WriteLine(measurement.ToString());
                samplePrecision = measurement.Chosen;
            }

            using var bf16 = samplePrecision == Precision.BFloat16 ? new BFloat16Denoiser(model) : null;
            IDenoiser denoiser = bf16 is null ? model : bf16;
            var images = DiffusionSampler.Instance.Sample(denoiser, scheduler, context, new SamplingOptions { Seed = 1 }, progress);
            clock.Stop();
            string name = scheduler is DdpmScheduler ? "DDPM" : "DDIM";
            Console.WriteLine(string.Create(inv, $"sample: {name} {samplePrecision} {sampleImages} images x {sampleSteps} steps in {clock.Elapsed.TotalSeconds:F2} s ({images.shape[0]} images; {Rate(sampleImages * sampleSteps / clock.Elapsed.TotalSeconds, forwardFlops)})"));
            if (plain)
            {
                var baseline = PlainSamplingLoop.Run(model, context, sampleImages);
                Console.WriteLine(string.Create(inv, $"sample: plain hand-written fp32 DDPM loop {sampleImages} images x 500 steps in {baseline.TotalSeconds:F2} s ({Rate(sampleImages * 500 / baseline.TotalSeconds, forwardFlops)})"));
            }

            if (rss.Count >= 2)
            {
                Console.WriteLine(string.Create(inv, $"sample: RSS at step 50 {rss[0]:F0} MiB, at the end {rss[^1]:F0} MiB"));
            }
        }

        Console.WriteLine(string.Create(inv, $"peak RSS: {ProcessMemory.PeakResidentMiB():F0} MiB"));
        return 0;
    }

    /// <summary>The batched-sampling section (<c>--batched-sampling</c>); see <see cref="BatchedSamplingBench"/>.</summary>
    private static int RunBatchedSampling(CliArguments args)
    {
        int maxBatch = args.Int("max-batch", new PipelineLimits().MaxBatchImages, 1);
        int perPrompt = args.Int("per-prompt", 4, 1, 1000);
        int steps = args.Int("solver-steps", 20, 1, 500);
        int features = args.Int("features", 64, 8);
        bool oldPath = args.Flag("old-path");
        int aloneChecks = args.Int("alone-checks", 8, 0, 10_000);
        var precision = PrecisionNames.Parse(args.String("precision") ?? "fp32");
        bool skipPeak = args.Flag("skip-peak");
        if (args.OptionalInt("threads", 1, 256) is { } threads)
        {
            torch.set_num_threads(threads);
        }

        args.EnsureAllUsed();
        double? peak = skipPeak ? null : FmaPeak.Measure(torch.get_num_threads()).GigaFlops;
        BatchedSamplingBench.Run(features, perPrompt, steps, maxBatch, oldPath, aloneChecks, precision, peak);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: {ProcessMemory.PeakResidentMiB():F0} MiB"));
        return 0;
    }
}
