using System.Diagnostics;
using DiffusionKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// Times float32 against bfloat16 on this machine, with the actual network and batch size, and says which is faster.
/// This is what <see cref="Precision.Auto"/> runs: bfloat16 is 1.65× faster than float32 on one 2-core CPU and 0.76×
/// on another (docs/benchmarks.md), so the choice is measured, never assumed.
/// </summary>
/// <remarks>
/// <para>Training: a few real <see cref="DiffusionTrainer"/> steps in each precision (synthetic images, the model's
/// own architecture, weights and batch size), alternating the two precisions over two rounds and keeping each one's
/// best figure, so a brief stall elsewhere on the machine does not decide. The model's parameters and buffers are
/// restored bit for bit afterwards, so a run that measures first trains exactly as one that does not.</para>
/// <para>Sampling: forward passes of the network against a <see cref="BFloat16Denoiser"/> copy, likewise alternated.</para>
/// <para>Not thread-safe with other work on the same model.</para>
/// </remarks>
public static class PrecisionProbe
{
    private const int Rounds = 3;
    private const int WarmupCalls = 2;
    private const int TimedCalls = 3;

    /// <summary>Measures training throughput in both precisions and returns the faster one.</summary>
    /// <typeparam name="TModel">The network type the trainer takes.</typeparam>
    /// <param name="model">The float32 network to be trained; its weights are restored before this returns.</param>
    /// <param name="scheduler">The training scheduler (its prediction type and T shape the step).</param>
    /// <param name="batchSize">The batch size the run will use.</param>
    /// <param name="cancellationToken">Checked between steps.</param>
    /// <returns>Both throughputs and the faster precision.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="batchSize"/> is below 1.</exception>
    public static PrecisionMeasurement MeasureTraining<TModel>(TModel model, INoiseScheduler scheduler, int batchSize, CancellationToken cancellationToken = default)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return PrecisionDecisionCache.GetOrMeasure(
            $"training {Shape(model)}, batch {batchSize}",
            () => MeasureTrainingNow(model, scheduler, batchSize, cancellationToken));
    }

    private static PrecisionMeasurement MeasureTrainingNow<TModel>(TModel model, INoiseScheduler scheduler, int batchSize, CancellationToken cancellationToken)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        var snapshot = Snapshot(model);
        try
        {
            var data = new SyntheticImages(model.Channels, model.ImageSize, batchSize);
            var encoder = new ZeroContextEncoder(model.ContextSize);
            double float32 = 0, bfloat16 = 0;
            for (int round = 0; round < Rounds; round++)
            {
                float32 = Math.Max(float32, TimeTraining(model, scheduler, data, encoder, batchSize, Precision.Float32, cancellationToken));
                bfloat16 = Math.Max(bfloat16, TimeTraining(model, scheduler, data, encoder, batchSize, Precision.BFloat16, cancellationToken));
            }

            return Decide(float32, bfloat16, $"training steps of batch {batchSize}");
        }
        finally
        {
            Restore(model, snapshot);
            foreach (var tensor in snapshot.Values)
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>Measures forward-pass throughput of <paramref name="model"/> against its bfloat16 copy and returns the faster one.</summary>
    /// <param name="model">The float32 network; not modified.</param>
    /// <param name="batchSize">Images per network call (with guidance, twice the images sampled at once).</param>
    /// <param name="cancellationToken">Checked between calls.</param>
    /// <returns>Both throughputs and the faster precision.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="batchSize"/> is below 1.</exception>
    public static PrecisionMeasurement MeasureSampling(ContextUnet model, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        return PrecisionDecisionCache.GetOrMeasure($"sampling {Shape(model)}, batch {batchSize}", () => MeasureSamplingNow(model, batchSize, cancellationToken));
    }

    /// <summary>The network's type, sizes and parameter count: what a remembered decision is keyed by.</summary>
    private static string Shape(nn.Module model)
    {
        long parameters = model.parameters().Sum(p => p.numel());
        return model is IDenoiser denoiser
            ? $"{model.GetType().Name} {denoiser.Channels}x{denoiser.ImageSize}x{denoiser.ImageSize} context {denoiser.ContextSize}, {parameters} parameters"
            : $"{model.GetType().Name}, {parameters} parameters";
    }

    private static PrecisionMeasurement MeasureSamplingNow(ContextUnet model, int batchSize, CancellationToken cancellationToken)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        using var generator = new Generator(0);
        var device = model.Device;
        var sample = randn(new long[] { batchSize, model.Channels, model.ImageSize, model.ImageSize }, generator: generator).to(device);
        var time = full(new long[] { batchSize }, 0.5f, device: device);
        var context = zeros(new long[] { batchSize, model.ContextSize }, device: device);
        using var bf16 = new BFloat16Denoiser(model);
        double float32 = 0, bfloat16 = 0;
        for (int round = 0; round < Rounds; round++)
        {
            float32 = Math.Max(float32, TimeForward(model, sample, time, context, cancellationToken));
            bfloat16 = Math.Max(bfloat16, TimeForward(bf16, sample, time, context, cancellationToken));
        }

        return Decide(float32, bfloat16, $"forward passes of batch {batchSize}");
    }

    /// <summary>
    /// bfloat16 must be faster by more than this factor to be chosen: within it the two are a tie and float32, the
    /// reference numerics, wins. This keeps the choice stable from run to run on machines where the two are close (a
    /// flip would change the images a seed gives), at a cost of at most 15% speed. On a Zen 5 two runs of one command
    /// measured bf16 at 1.80x and 1.14x fp32: the margin keeps such a machine's choice from following the noise, and
    /// <see cref="PrecisionDecisionCache"/> keeps the first decision for later runs.
    /// </summary>
    public const double BFloat16Margin = 1.15;

    private static PrecisionMeasurement Decide(double float32, double bfloat16, string workload)
        => new(bfloat16 > float32 * BFloat16Margin ? Precision.BFloat16 : Precision.Float32, float32, bfloat16, workload);

    private static double TimeTraining<TModel>(TModel model, INoiseScheduler scheduler, IImageCaptionDataset data, ITextEncoder encoder, int batchSize, Precision precision, CancellationToken cancellationToken)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        var stamps = new long[WarmupCalls + TimedCalls + 1];
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions
        {
            Steps = WarmupCalls + TimedCalls,
            BatchSize = batchSize,
            Precision = precision,
            ContextDropout = 0,
            LearningRate = 1e-4,
        });
        var progress = new Pipeline.ActionProgress<TrainingProgress>(p => stamps[p.Step] = Stopwatch.GetTimestamp());
        trainer.Train(model, scheduler, data, encoder, progress, cancellationToken);
        double seconds = Stopwatch.GetElapsedTime(stamps[WarmupCalls], stamps[WarmupCalls + TimedCalls]).TotalSeconds;
        return TimedCalls * batchSize / Math.Max(seconds, 1e-9);
    }

    private static double TimeForward(IDenoiser denoiser, Tensor sample, Tensor time, Tensor context, CancellationToken cancellationToken)
    {
        long start = 0;
        for (int call = 0; call < WarmupCalls + TimedCalls; call++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (call == WarmupCalls)
            {
                start = Stopwatch.GetTimestamp();
            }

            using var scope = NewDisposeScope();
            Predict(denoiser, sample, time, context).sum().item<float>();
        }

        return TimedCalls * sample.shape[0] / Math.Max(Stopwatch.GetElapsedTime(start).TotalSeconds, 1e-9);
    }

    /// <summary>
    /// One forward pass of <paramref name="sample"/>'s rows as sampling runs them: a guided denoiser gets half the rows
    /// as images, each paired with an unconditional row (classifier-free guidance's batch), others all rows at once.
    /// </summary>
    private static Tensor Predict(IDenoiser denoiser, Tensor sample, Tensor time, Tensor context)
    {
        long images = sample.shape[0] / 2;
        if (denoiser is IGuidedDenoiser guided && images > 0)
        {
            var half = context.narrow(0, 0, images);
            return guided.PredictNoiseGuided(sample.narrow(0, 0, images), time.narrow(0, 0, images), half, null, half);
        }

        return denoiser.PredictNoise(sample, time, context);
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module module)
    {
        using var noGrad = no_grad();
        return module.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope());
    }

    private static void Restore(nn.Module module, Dictionary<string, Tensor> snapshot)
    {
        using var noGrad = no_grad();
        foreach (var (name, tensor) in module.state_dict())
        {
            tensor.copy_(snapshot[name]);
        }
    }

    /// <summary>Deterministic noise images with empty captions: the shape of a real batch, no real data needed.</summary>
    private sealed class SyntheticImages(int channels, int imageSize, int count) : IImageCaptionDataset
    {
        public int Count => count;

        public int ImageSize => imageSize;

        public int Channels => channels;

        public string GetCaption(int index) => string.Empty;

        public void CopyImage(int index, Span<byte> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = (byte)((i * 37) + (index * 101));
            }
        }
    }

    /// <summary>A frozen encoder of the model's context size that returns zeros: the probe times the network, not the encoder.</summary>
    private sealed class ZeroContextEncoder(int contextSize) : ITextEncoder
    {
        public int ContextSize => contextSize;

        public Tensor Encode(IReadOnlyList<string> prompts) => zeros(new long[] { prompts.Count, contextSize });
    }
}
