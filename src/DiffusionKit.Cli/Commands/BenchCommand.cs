using System.CommandLine;
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
/// 32 images × 500 steps, and memory (peak RSS, RSS growth across steps); with <c>--batched-sampling</c>, the demo's
/// sampling job through the batched pipeline.
/// </summary>
internal sealed class BenchCommand : CliCommand
{
    /// <summary>Creates the command with the options of both benchmarks; each benchmark's own options are refused with the other.</summary>
    public BenchCommand()
        : base("bench", "measure training and sampling speed and memory", Explanation)
    {
        foreach (var option in TrainAndSampleOptions.Concat(BatchedOptions).Concat([BatchedSampling, Features, Precision, SkipPeak, Threads]))
        {
            Add(option);
        }

        Validators.Add(result =>
        {
            bool batched = result.GetResult(BatchedSampling) is { Implicit: false };
            foreach (var option in batched ? TrainAndSampleOptions : BatchedOptions)
            {
                if (result.GetResult(option) is { Implicit: false })
                {
                    result.AddError(batched
                        ? $"{option.Name} does not apply to --batched-sampling."
                        : $"{option.Name} applies to --batched-sampling only.");
                }
            }
        });
        SetAction(Run);
    }

    /// <summary><c>--batched-sampling</c>: run the batched-sampling benchmark instead.</summary>
    public Option<bool> BatchedSampling { get; } = CliOptions.Flag("--batched-sampling", "measure the demo's sampling job through the batched pipeline instead (see the notes)");

    /// <summary><c>--train-steps N</c>.</summary>
    public Option<int> TrainSteps { get; } = CliOptions.Integer("--train-steps", "timed training steps", 40, 1);

    /// <summary><c>--warmup-steps N</c>.</summary>
    public Option<int> WarmupSteps { get; } = CliOptions.Integer("--warmup-steps", "untimed training steps first", 5, 1);

    /// <summary><c>--batch N</c>.</summary>
    public Option<int> Batch { get; } = CliOptions.Integer("--batch", "training batch size", 100, 1);

    /// <summary><c>--sample-images N</c>.</summary>
    public Option<int> SampleImages { get; } = CliOptions.Integer("--sample-images", "images sampled together", 32, 1);

    /// <summary><c>--sample-steps N</c>.</summary>
    public Option<int> SampleSteps { get; } = CliOptions.Integer("--sample-steps", "sampling steps: 500 is DDPM, fewer DDIM", 500, 1, 500);

    /// <summary><c>--skip-train</c>.</summary>
    public Option<bool> SkipTrain { get; } = CliOptions.Flag("--skip-train", "skip the training measurement");

    /// <summary><c>--skip-sample</c>.</summary>
    public Option<bool> SkipSample { get; } = CliOptions.Flag("--skip-sample", "skip the sampling measurement");

    /// <summary><c>--plain-baseline</c>.</summary>
    public Option<bool> PlainBaseline { get; } = CliOptions.Flag("--plain-baseline", "also time a hand-written TorchSharp loop on the same network, for comparison");

    /// <summary><c>--max-batch N</c> (batched sampling).</summary>
    public Option<int> MaxBatch { get; } = CliOptions.Integer("--max-batch", "--batched-sampling: images sampled together at most", new PipelineLimits().MaxBatchImages, 1);

    /// <summary><c>--per-prompt N</c> (batched sampling).</summary>
    public Option<int> PerPrompt { get; } = CliOptions.Integer("--per-prompt", "--batched-sampling: images per prompt", 4, 1, 1000);

    /// <summary><c>--solver-steps N</c> (batched sampling).</summary>
    public Option<int> SolverSteps { get; } = CliOptions.Integer("--solver-steps", "--batched-sampling: SDE-DPM-Solver++ steps", 20, 1, 500);

    /// <summary><c>--old-path</c> (batched sampling).</summary>
    public Option<bool> OldPath { get; } = CliOptions.Flag("--old-path", "--batched-sampling: also time the old per-prompt path");

    /// <summary><c>--alone-checks N</c> (batched sampling).</summary>
    public Option<int> AloneChecks { get; } = CliOptions.Integer("--alone-checks", "--batched-sampling: images also sampled alone, to compare with batched", 8, 0, 10_000);

    /// <summary><c>--features N</c>.</summary>
    public Option<int> Features { get; } = CliOptions.Integer("--features", "the U-Net's width (n_feat)", 64, 8);

    /// <summary><c>--precision fp32|bf16|auto</c>.</summary>
    public ChoiceOption<Precision> Precision { get; } = CommonOptions.Precision(Training.Precision.Float32, "the arithmetic measured (auto times both and uses the faster)");

    /// <summary><c>--skip-peak</c>.</summary>
    public Option<bool> SkipPeak { get; } = CliOptions.Flag("--skip-peak", "skip measuring the machine's fp32 FMA peak (figures are then not given as % of it)");

    /// <summary><c>--threads N</c>.</summary>
    public Option<int?> Threads { get; } = CommonOptions.Threads();

    private const string Explanation = """
        Measures the course configuration (ContextUnet n_feat 64, 16x16, 5 context features): training images/s at batch 100
        and DDPM sampling of 32 images x 500 steps, with RSS figures. First measures the machine's fp32 FMA peak (GFLOP/s over
        the threads used) and reports every figure also as GFLOP/s and % of that peak.
        --batched-sampling: the demo's sampling job (48 prompts x --per-prompt images, SDE-DPM-Solver++, guidance 3) through
        the batched pipeline (random weights), optionally next to the old per-prompt path, and the largest difference
        between an image sampled batched and alone.
        """;

    private IEnumerable<Option> TrainAndSampleOptions => [TrainSteps, WarmupSteps, Batch, SampleImages, SampleSteps, SkipTrain, SkipSample, PlainBaseline];

    private IEnumerable<Option> BatchedOptions => [MaxBatch, PerPrompt, SolverSteps, OldPath, AloneChecks];

    private int Run(ParseResult parse)
    {
        TorchRuntime.Start(parse.GetValue(Threads));
        if (parse.GetValue(BatchedSampling))
        {
            return RunBatchedSampling(parse);
        }

        int trainSteps = parse.GetValue(TrainSteps);
        int warmup = parse.GetValue(WarmupSteps);
        int batch = parse.GetValue(Batch);
        int sampleImages = parse.GetValue(SampleImages);
        int sampleSteps = parse.GetValue(SampleSteps);
        int features = parse.GetValue(Features);
        bool skipTrain = parse.GetValue(SkipTrain);
        bool plain = parse.GetValue(PlainBaseline);
        var precision = Precision.Read(parse);
        bool skipSample = parse.GetValue(SkipSample);
        bool skipPeak = parse.GetValue(SkipPeak);
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
            var trained = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = warmup + trainSteps, BatchSize = batch, Seed = 1, Precision = precision, OnPrecisionMeasured = m => Console.WriteLine(m.ToString()), OnWarning = w => Console.Error.WriteLine($"warning: {w}") })
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
            if (samplePrecision == DiffusionKit.Training.Precision.Auto)
            {
                var measurement = PrecisionProbe.MeasureSampling(model, sampleImages);
                Console.WriteLine(measurement.ToString());
                samplePrecision = measurement.Chosen;
            }

            using var bf16 = samplePrecision == DiffusionKit.Training.Precision.BFloat16 ? new BFloat16Denoiser(model) : null;
            IDenoiser denoiser = bf16 is null ? model : bf16;
            var images = new DiffusionSampler().Sample(denoiser, scheduler, context, new SamplingOptions { Seed = 1 }, progress);
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
        return ExitCodes.Success;
    }

    /// <summary>The batched-sampling section (<c>--batched-sampling</c>); see <see cref="BatchedSamplingBench"/>.</summary>
    private int RunBatchedSampling(ParseResult parse)
    {
        double? peak = parse.GetValue(SkipPeak) ? null : FmaPeak.Measure(torch.get_num_threads()).GigaFlops;
        BatchedSamplingBench.Run(
            parse.GetValue(Features), parse.GetValue(PerPrompt), parse.GetValue(SolverSteps), parse.GetValue(MaxBatch), parse.GetValue(OldPath),
            parse.GetValue(AloneChecks), Precision.Read(parse), peak);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"peak RSS: {ProcessMemory.PeakResidentMiB():F0} MiB"));
        return ExitCodes.Success;
    }
}
