using DiffusionKit.Pipeline;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

/// <summary>Gradient accumulation and gradient clipping (DiffusionTrainerOptions.GradientAccumulationSteps, MaxGradNorm).</summary>
public sealed class GradientControlTests
{
    private static readonly WordEncoder Encoder = new("red", "blue", "green", "big");

    private static List<Tensor> Weights(nn.Module module) => module.parameters().Select(t => t.detach().clone()).ToList();

    [Fact]
    public void Accumulating_two_batches_of_8_equals_one_batch_of_16_within_float_tolerance()
    {
        // TinyDenoiser has no BatchNorm, so the two are the same computation up to float summation order. Min-SNR weights
        // and context dropout are on so every part of the loss is split across the micro-batches.
        DiffusionTrainerOptions Options(int batch, int accumulation) => new()
        {
            Steps = 3, BatchSize = batch, GradientAccumulationSteps = accumulation, LearningRate = 1e-2, SnrGamma = 5, ContextDropout = 0.3, Seed = 4,
        };
        var whole = TinyDenoiser.Seeded(3);
        var accumulated = TinyDenoiser.Seeded(3);
        var other = TinyDenoiser.Seeded(3);
        var lossesWhole = new List<double>();
        var lossesAccumulated = new List<double>();
        new DiffusionTrainer(Options(16, 1)).Train(whole, new DdpmScheduler(), new SquaresDataset(32), Encoder, new ActionProgress<TrainingProgress>(p => lossesWhole.Add(p.Loss)));
        new DiffusionTrainer(Options(8, 2)).Train(accumulated, new DdpmScheduler(), new SquaresDataset(32), Encoder, new ActionProgress<TrainingProgress>(p => lossesAccumulated.Add(p.Loss)));
        new DiffusionTrainer(Options(8, 1)).Train(other, new DdpmScheduler(), new SquaresDataset(32), Encoder);

        lossesAccumulated.Should().Equal(lossesWhole, (a, b) => Math.Abs(a - b) < 1e-5);
        double difference = Weights(whole).Zip(Weights(accumulated)).Max(p => (p.First - p.Second).abs().max().item<float>());
        difference.Should().BeLessThan(1e-5f);
        double toPlainBatch8 = Weights(whole).Zip(Weights(other)).Max(p => (p.First - p.Second).abs().max().item<float>());
        toPlainBatch8.Should().BeGreaterThan(1e-3f, "without accumulation a batch of 8 trains differently (the comparison can fail)");
    }

    [Fact]
    public void Accumulation_counts_optimiser_steps_and_rejects_an_effective_batch_larger_than_the_data()
    {
        var result = new DiffusionTrainer(new DiffusionTrainerOptions { Epochs = 2, BatchSize = 8, GradientAccumulationSteps = 2 })
            .Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(40), Encoder);
        result.Steps.Should().Be(4, "40 images make 2 effective batches of 16 per epoch");

        var tooBig = () => new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 8, GradientAccumulationSteps = 3 })
            .Train(TinyDenoiser.Seeded(1), new DdpmScheduler(), new SquaresDataset(16), Encoder);
        tooBig.Should().Throw<ArgumentException>().WithMessage("*8 × 3 = 24*only 16*GradientAccumulationSteps*");
    }

    [Fact]
    public void Clipping_to_a_large_norm_changes_nothing_and_to_a_tiny_norm_shrinks_the_first_update()
    {
        // Adam's first update is lr · g / (|g| + eps) per element: about lr wherever |g| >> eps = 1e-8. Clipped to a total
        // norm of 1e-12 every |g| is far below eps, so the update shrinks by orders of magnitude.
        const double lr = 1e-2;
        List<Tensor> Step(double? maxNorm)
        {
            var model = TinyDenoiser.Seeded(8);
            new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 16, LearningRate = lr, LearningRateSchedule = LearningRateSchedule.Constant, Seed = 2, MaxGradNorm = maxNorm })
                .Train(model, new DdpmScheduler(), new SquaresDataset(16), Encoder);
            return Weights(model);
        }

        var start = Weights(TinyDenoiser.Seeded(8));
        var plain = Step(null);
        var loose = Step(1e6);
        var tight = Step(1e-12);

        plain.Zip(loose).Should().OnlyContain(p => p.First.eq(p.Second).all().item<bool>(), "a norm limit above the gradient's norm leaves it untouched");
        double plainMove = start.Zip(plain).Max(p => (p.First - p.Second).abs().max().item<float>());
        double tightMove = start.Zip(tight).Max(p => (p.First - p.Second).abs().max().item<float>());
        plainMove.Should().BeApproximately(lr, 0.01 * lr);
        tightMove.Should().BeLessThan(lr / 1000);
    }

    [Fact]
    public void Torch_clip_grad_norm_scales_the_total_norm_to_the_limit()
    {
        // The trainer clips with torch.nn.utils.clip_grad_norm_ over all trained parameters; this pins the semantics it relies on.
        using var scope = NewDisposeScope();
        var a = new TorchSharp.Modules.Parameter(zeros(3));
        var b = new TorchSharp.Modules.Parameter(zeros(2, 2));
        a.grad = tensor(new float[] { 3, 0, 0 });
        b.grad = tensor(new float[] { 0, 4, 0, 0 }).reshape(2, 2);
        double total = nn.utils.clip_grad_norm_(new[] { a, b }, 1.0);
        total.Should().BeApproximately(5, 1e-6, "the norm is over all gradients together");
        double clipped = Math.Sqrt(a.grad!.square().sum().item<float>() + b.grad!.square().sum().item<float>());
        clipped.Should().BeApproximately(1, 1e-5);
        a.grad![0].item<float>().Should().BeApproximately(0.6f, 1e-5f);
    }

    [Theory]
    [InlineData("MaxGradNorm")]
    [InlineData("GradientAccumulationSteps")]
    [InlineData("SaveEvery")]
    [InlineData("KeepCheckpoints")]
    [InlineData("SampleEvery")]
    [InlineData("SamplePrompts")]
    [InlineData("ResumeFrom")]
    public void Invalid_new_options_are_rejected_by_name(string name)
    {
        var options = name switch
        {
            "MaxGradNorm" => new DiffusionTrainerOptions { Steps = 1, MaxGradNorm = 0 },
            "GradientAccumulationSteps" => new DiffusionTrainerOptions { Steps = 1, GradientAccumulationSteps = 0 },
            "SaveEvery" => new DiffusionTrainerOptions { Steps = 1, SaveEvery = 0 },
            "KeepCheckpoints" => new DiffusionTrainerOptions { Steps = 1, KeepCheckpoints = 0 },
            "SampleEvery" => new DiffusionTrainerOptions { Steps = 1, SampleEvery = 0, SamplePrompts = ["red"] },
            "SamplePrompts" => new DiffusionTrainerOptions { Steps = 1, SampleEvery = 5 },
            _ => new DiffusionTrainerOptions { Steps = 1, ResumeFrom = " " },
        };
        ((Action)options.Validate).Should().Throw<ArgumentException>().Which.ParamName.Should().Be(name);
    }
}
