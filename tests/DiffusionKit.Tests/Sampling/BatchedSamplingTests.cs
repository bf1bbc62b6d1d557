using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Sampling;

/// <summary>Per-image seeds and guidance: an image's pixels do not depend on its batch-mates.</summary>
public sealed class BatchedSamplingTests
{
    private const double TwoLevels = 2.0 / 255;

    /// <summary>The small eval-mode network of the sampling tests (n_feat 8, 8×8, 4 context features).</summary>
    internal static ContextUnet Model()
    {
        var model = new ContextUnet(new ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 4 }, seed: 3);
        model.eval();
        return model;
    }

    /// <summary>A scheduler over 40 training steps: <paramref name="steps"/> steps, by default 6 (40 for DDPM).</summary>
    internal static INoiseScheduler Scheduler(SamplerKind algorithm, int? steps = null) => SchedulerFactory.Create(new SchedulerOptions
    {
        Algorithm = algorithm,
        TrainTimesteps = 40,
        InferenceSteps = steps ?? (algorithm == SamplerKind.Ddpm ? 40 : 6),
    });

    /// <summary><paramref name="count"/> distinct context rows for <see cref="Model"/>.</summary>
    internal static Tensor Contexts(int count) => (arange(count * 4, dtype: ScalarType.Float32).view(count, 4) % 3) / 2;

    public static TheoryData<SamplerKind> StochasticAndDeterministic => new()
    {
        SamplerKind.DpmSolverMultistepSde,
        SamplerKind.EulerAncestral,
        SamplerKind.Ddpm,
        SamplerKind.DpmSolverMultistep,
    };

    [Theory]
    [MemberData(nameof(StochasticAndDeterministic))]
    public void Each_image_of_a_batch_equals_the_same_image_sampled_alone(SamplerKind algorithm)
    {
        using var model = Model();
        using var scope = NewDisposeScope();
        var contexts = Contexts(5);
        long[] seeds = [11, 12, 500, -3, 11];
        double[] guidance = [0, 2, 3.5, 2, 0.5];

        var batched = new DiffusionSampler().Sample(model, Scheduler(algorithm), contexts, new SamplingOptions { ImageSeeds = seeds, GuidanceScales = guidance });

        for (int i = 0; i < seeds.Length; i++)
        {
            var alone = new DiffusionSampler().Sample(model, Scheduler(algorithm), contexts.narrow(0, i, 1), new SamplingOptions { Seed = seeds[i], GuidanceScale = guidance[i] });
            double difference = (batched.narrow(0, i, 1) - alone).abs().max().item<float>();
            difference.Should().BeLessThanOrEqualTo(TwoLevels, $"image {i} must not depend on its batch-mates");
        }

        (batched[0] - batched[1]).abs().max().item<float>().Should().BeGreaterThan(0.1f, "images with other seeds get other noise");
    }

    [Fact]
    public void One_image_seed_draws_exactly_what_the_single_generator_draws()
    {
        using var model = Model();
        using var scope = NewDisposeScope();
        var context = Contexts(1);

        var perImage = new DiffusionSampler().Sample(model, Scheduler(SamplerKind.DpmSolverMultistepSde), context, new SamplingOptions { ImageSeeds = [42], GuidanceScales = [2.0] });
        var single = new DiffusionSampler().Sample(model, Scheduler(SamplerKind.DpmSolverMultistepSde), context, new SamplingOptions { Seed = 42, GuidanceScale = 2.0 });

        (perImage - single).abs().max().item<float>().Should().Be(0, "row i of a per-image draw is randn([1, ...]) from generator i");
    }

    [Fact]
    public void Only_guided_images_join_the_unconditional_half_of_the_network_call()
    {
        using var model = Model();
        var recorder = new BatchRecordingDenoiser(model);
        using var scope = NewDisposeScope();

        new DiffusionSampler().Sample(recorder, Scheduler(SamplerKind.Ddim), Contexts(4), new SamplingOptions { ImageSeeds = [1, 2, 3, 4], GuidanceScales = [0, 3, 0, 1] });
        new DiffusionSampler().Sample(recorder, Scheduler(SamplerKind.Ddim), Contexts(4), new SamplingOptions { ImageSeeds = [1, 2, 3, 4], GuidanceScales = [0, 0, 0, 0] });

        recorder.Calls.Should().Equal(Enumerable.Repeat(6L, 6).Concat(Enumerable.Repeat(4L, 6)), "one call per step: 4 conditional rows + 2 unconditional rows, then 4 rows unguided");
    }

    [Fact]
    public void Dropped_rows_leave_the_network_calls_and_the_rest_stay_unchanged()
    {
        using var model = Model();
        var recorder = new BatchRecordingDenoiser(model);
        using var scope = NewDisposeScope();
        var contexts = Contexts(3);
        long[] seeds = [7, 8, 9];
        var full = new DiffusionSampler().Sample(model, Scheduler(SamplerKind.DpmSolverMultistepSde), contexts, new SamplingOptions { ImageSeeds = seeds, GuidanceScale = 2 });

        using var noise = new PerImageNoiseSource(seeds);
        var batch = new SamplingBatch(recorder, Scheduler(SamplerKind.DpmSolverMultistepSde), 3, contexts, null, [2, 2, 2], noise);
        var outcome = DiffusionSampler.Run(batch, new DropAtStep(3, keepPositions: [0, 2]), CancellationToken.None);

        recorder.Calls.Should().Equal(6, 6, 4, 4, 4, 4);
        outcome.Rows.Should().Equal(0, 2);
        (outcome.Images! - full.index_select(0, tensor(new long[] { 0, 2 }))).abs().max().item<float>().Should().BeLessThanOrEqualTo((float)TwoLevels);

        using var generator = new Generator(5);
        var stopped = DiffusionSampler.Run(batch with { Scheduler = Scheduler(SamplerKind.Ddim), Noise = new GeneratorNoiseSource(generator) }, new DropAtStep(2, keepPositions: []), CancellationToken.None);
        stopped.Images.Should().BeNull("a batch whose images are all dropped stops");
    }

    [Fact]
    public void Per_image_options_are_validated_naming_the_option()
    {
        using var model = Model();
        using var scope = NewDisposeScope();
        var scheduler = Scheduler(SamplerKind.Ddim);
        using var generator = new Generator(1);

        var wrongCount = () => new DiffusionSampler().Sample(model, scheduler, Contexts(2), new SamplingOptions { ImageSeeds = [1] });
        var both = () => new DiffusionSampler().Sample(model, scheduler, Contexts(1), new SamplingOptions { ImageSeeds = [1], Generator = generator });
        var nan = () => new DiffusionSampler().Sample(model, scheduler, Contexts(2), new SamplingOptions { GuidanceScales = [1, double.NaN] });
        var mixed = () => new DiffusionSampler().Sample(model, scheduler, Contexts(1), new SamplingOptions { GuidanceScales = [1], GuidanceScale = 2 });

        wrongCount.Should().Throw<ArgumentException>().WithMessage("*ImageSeeds*one seed per image (2)*");
        both.Should().Throw<ArgumentException>().WithMessage("*ImageSeeds*Generator*");
        nan.Should().Throw<ArgumentOutOfRangeException>().WithMessage("*GuidanceScales[1]*");
        mixed.Should().Throw<ArgumentException>().WithMessage("*GuidanceScales*GuidanceScale*");
    }

    /// <summary>Keeps the given positions before step <c>step</c> (1-based) and everything otherwise.</summary>
    private sealed class DropAtStep(int step, int[] keepPositions) : ISamplingObserver
    {
        private int _before;

        public IReadOnlyList<int>? Keep(IReadOnlyList<int> active) => ++_before == step ? keepPositions : null;

        public void StepFinished(int step, int totalSteps, int timestep, IReadOnlyList<int> active, Tensor sample)
        {
        }
    }
}
