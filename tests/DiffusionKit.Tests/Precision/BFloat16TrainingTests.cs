using DiffusionKit.Pipeline;
using DiffusionKit.Models;
using DiffusionKit.Tests.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Text;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TrainingPrecision = DiffusionKit.Training.Precision;

namespace DiffusionKit.Tests.Precision;

/// <summary>Mixed-precision training: bfloat16 compute, float32 master weights, a float32 model handed back.</summary>
public sealed class BFloat16TrainingTests
{
    internal static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    internal static ContextUnet Tiny(long seed) =>
        new(new ContextUnetOptions { Features = 8, ContextSize = Encoder.ContextSize, ImageSize = 8 }, seed);

    internal static Dictionary<string, Tensor> Snapshot(nn.Module model) =>
        model.state_dict().ToDictionary(p => p.Key, p => p.Value.detach().clone());

    [Fact]
    public void Loss_falls_and_the_model_comes_back_float32_finite_and_changed()
    {
        using var model = Tiny(1);
        var before = Snapshot(model);
        var losses = new List<double>();
        var trainer = new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 30, BatchSize = 16, LearningRate = 3e-3, Seed = 1, Precision = TrainingPrecision.BFloat16 });

        var result = trainer.Train(model, new DdpmScheduler(), new SquaresDataset(64), Encoder, new ActionProgress<TrainingProgress>(p => losses.Add(p.Loss)));

        result.Steps.Should().Be(30);
        losses.Take(5).Average().Should().BeGreaterThan(0.5, "an untrained network predicts the noise badly");
        losses.Skip(25).Average().Should().BeLessThan(0.8 * losses.Take(5).Average(), "the loss must fall in bfloat16 too");
        model.training.Should().BeFalse();

        var after = model.state_dict();
        after.Keys.Should().BeEquivalentTo(before.Keys);
        foreach (var (name, tensor) in after)
        {
            tensor.dtype.Should().Be(before[name].dtype, $"{name} must come back in its original dtype");
            if (tensor.is_floating_point())
            {
                isfinite(tensor).all().item<bool>().Should().BeTrue($"{name} must be finite");
            }
        }

        foreach (var (name, p) in model.named_parameters())
        {
            TensorComparison.Identical(p, before[name]).Should().BeFalse($"{name} gets gradient and must have moved");
        }

        TensorComparison.Identical(after["init_conv.conv1.1.running_mean"], before["init_conv.conv1.1.running_mean"]).Should().BeFalse("BatchNorm statistics are updated in bfloat16 and cast back");

        using var scope = NewDisposeScope();
        var eps = model.PredictNoise(randn(2, 3, 8, 8), rand(2), null);
        eps.dtype.Should().Be(ScalarType.Float32);
        isfinite(eps).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void Master_weights_keep_updates_too_small_for_bfloat16()
    {
        using var model = Tiny(2);
        // Start from weights that bfloat16 represents exactly, so a pure-bfloat16 update that rounds away leaves them bit-identical.
        using (no_grad())
        {
            foreach (var p in model.parameters())
            {
                p.copy_(p.to(ScalarType.BFloat16).to(ScalarType.Float32));
            }
        }

        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        const double lr = 1e-5;
        var options = new DiffusionTrainerOptions
        {
            Steps = 10, BatchSize = 16, LearningRate = lr, LearningRateSchedule = LearningRateSchedule.Constant,
            ContextDropout = 0, Seed = 3, Precision = TrainingPrecision.BFloat16,
        };

        new DiffusionTrainer(options).Train(model, new DdpmScheduler(), new SquaresDataset(32), Encoder);

        long large = 0, moved = 0, representable = 0;
        foreach (var (name, p) in model.named_parameters())
        {
            // Weights with |w| >= 1/16 have a bfloat16 spacing of >= 2^-11 ≈ 4.9e-4: one Adam step (about lr = 1e-5) is far
            // below half of it, so in bfloat16 each step would round back to the old value.
            var w0 = before[name];
            var mask = w0.abs().ge(1.0 / 16);
            var changed = p.ne(w0).logical_and(mask);
            large += mask.sum().item<long>();
            moved += changed.sum().item<long>();
            representable += p.to(ScalarType.BFloat16).to(ScalarType.Float32).eq(p).logical_and(changed).sum().item<long>();
            (p - w0).abs().max().item<float>().Should().BeLessThan(20 * (float)lr, $"{name}: 10 Adam steps of lr {lr} move a weight by about 1e-4 at most");
        }

        large.Should().BeGreaterThan(100);
        moved.Should().BeGreaterThan(large / 2, "the float32 masters accumulate the tiny updates a bfloat16 weight would lose");
        representable.Should().BeLessThan(moved / 10, "the returned weights are the float32 masters, not bfloat16 values cast back");

        // The premise: a weight of 1/16 plus one step is the same bfloat16 number.
        var w = tensor(0.0625f).to(ScalarType.BFloat16);
        TensorComparison.Identical((w + lr).to(ScalarType.BFloat16), w).Should().BeTrue();
    }

    [Fact]
    public void Same_seed_gives_identical_weights()
    {
        var options = new DiffusionTrainerOptions { Steps = 8, BatchSize = 8, Seed = 4, EmaDecay = 0.9, Precision = TrainingPrecision.BFloat16 };
        using var a = Tiny(3);
        using var b = Tiny(3);
        using var c = Tiny(3);
        new DiffusionTrainer(options).Train(a, new DdpmScheduler(), new SquaresDataset(32), Encoder);
        new DiffusionTrainer(options).Train(b, new DdpmScheduler(), new SquaresDataset(32), Encoder);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 8, BatchSize = 8, Seed = 5, EmaDecay = 0.9, Precision = TrainingPrecision.BFloat16 })
            .Train(c, new DdpmScheduler(), new SquaresDataset(32), Encoder);

        var sa = a.state_dict();
        var sb = b.state_dict();
        var sc = c.state_dict();
        foreach (var name in sa.Keys)
        {
            TensorComparison.Identical(sa[name], sb[name]).Should().BeTrue($"{name} must match bit for bit");
        }

        sa.Keys.Any(n => !TensorComparison.Identical(sa[n], sc[n])).Should().BeTrue("another seed trains differently");
    }

    [Fact]
    public void Bfloat16_and_float32_runs_differ_but_stay_close()
    {
        using var full = Tiny(6);
        using var mixed = Tiny(6);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 5, BatchSize = 8, Seed = 6 }).Train(full, new DdpmScheduler(), new SquaresDataset(16), Encoder);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 5, BatchSize = 8, Seed = 6, Precision = TrainingPrecision.BFloat16 }).Train(mixed, new DdpmScheduler(), new SquaresDataset(16), Encoder);

        var f = full.parameters().ToList();
        var m = mixed.parameters().ToList();
        f.Zip(m).Any(p => !TensorComparison.Identical(p.First, p.Second)).Should().BeTrue("the bfloat16 option must actually change the arithmetic");
        f.Zip(m).Max(p => (p.First - p.Second).abs().max().item<float>()).Should().BeLessThan(0.01f, "5 steps at lr 1e-3 move weights by about 5e-3 at most either way");
    }

    [Fact]
    public void Live_tensors_do_not_grow_across_steps()
    {
        var counts = new List<long>();
        var progress = new ActionProgress<TrainingProgress>(_ => counts.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        using var model = Tiny(4);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 30, BatchSize = 8, EmaDecay = 0.99, Precision = TrainingPrecision.BFloat16 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder, progress);

        counts.Skip(5).Max().Should().BeLessThanOrEqualTo(counts[4], "each step must dispose everything it created");
    }

    [Fact]
    public void Cancellation_with_ema_still_returns_a_float32_model()
    {
        using var cts = new CancellationTokenSource();
        using var model = Tiny(5);
        var progress = new ActionProgress<TrainingProgress>(p =>
        {
            if (p.Step == 3)
            {
                cts.Cancel();
            }
        });

        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1000, BatchSize = 8, EmaDecay = 0.9, Precision = TrainingPrecision.BFloat16 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder, progress, cts.Token);

        act.Should().Throw<OperationCanceledException>();
        model.training.Should().BeFalse();
        model.state_dict().Values.Where(t => t.is_floating_point()).Should().OnlyContain(t => t.dtype == ScalarType.Float32);
        using var scope = NewDisposeScope();
        isfinite(model.PredictNoise(zeros(1, 3, 8, 8), zeros(1), null)).all().item<bool>().Should().BeTrue();
    }

    [Fact]
    public void A_learned_encoder_stays_float32_and_is_trained_through_the_cast()
    {
        using var encoder = LearnedTextEncoder.FromCaptions(new[] { "red", "blue" }, dimension: 8, seed: 1);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 8, ImageSize = 8 }, seed: 1);
        var before = Snapshot(encoder);

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 5, BatchSize = 8, LearningRate = 1e-2, Seed = 1, Precision = TrainingPrecision.BFloat16 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(16), encoder);

        foreach (var (name, tensor) in encoder.state_dict())
        {
            tensor.dtype.Should().Be(ScalarType.Float32, $"{name} is not cast");
        }

        encoder.state_dict().Any(p => !TensorComparison.Identical(p.Value, before[p.Key])).Should().BeTrue("gradients reach the encoder through the bfloat16 cast");
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float32);
    }

    [Fact]
    public void A_model_that_is_not_float32_is_rejected_and_left_alone()
    {
        using var model = Tiny(7);
        model.to(ScalarType.Float64);

        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 8, Precision = TrainingPrecision.BFloat16 })
            .Train(model, new DdpmScheduler(), new SquaresDataset(8), Encoder);

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "model" && e.Message.Contains("Float64"));
        model.parameters().Should().OnlyContain(p => p.dtype == ScalarType.Float64);
    }

    [Fact]
    public void An_undefined_precision_is_rejected_naming_the_option()
    {
        var act = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, Precision = (TrainingPrecision)7 });

        act.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("Precision");
        new DiffusionTrainerOptions().Precision.Should().Be(TrainingPrecision.Float32);
    }
}
