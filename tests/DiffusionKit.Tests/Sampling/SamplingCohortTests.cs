using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Sampling;

/// <summary>Continuous batching's core: loops at different timesteps, with different samplers, share network calls and still give their own images.</summary>
public sealed class SamplingCohortTests
{
    /// <summary>Three loops: guided DDIM (2 images), unguided Euler ancestral, SDE-DPM-Solver++ with mixed guidance.</summary>
    private static SamplingBatch Batch(IDenoiser denoiser, int loop)
    {
        var contexts = BatchedSamplingTests.Contexts(3);
        return loop switch
        {
            0 => new SamplingBatch(denoiser, BatchedSamplingTests.Scheduler(SamplerKind.Ddim, 6), 2, contexts.narrow(0, 0, 2), null, [2, 2], new PerImageNoiseSource([1, 2])),
            1 => new SamplingBatch(denoiser, BatchedSamplingTests.Scheduler(SamplerKind.EulerAncestral, 4), 1, contexts.narrow(0, 2, 1), null, [0], new PerImageNoiseSource([3])),
            _ => new SamplingBatch(denoiser, BatchedSamplingTests.Scheduler(SamplerKind.DpmSolverMultistepSde, 5), 3, contexts, null, [0, 3, 1.5], new PerImageNoiseSource([4, 5, 6])),
        };
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Loops_stepped_together_at_their_own_timesteps_give_the_images_each_gives_alone(bool guidedDenoiser)
    {
        using var model = BatchedSamplingTests.Model();
        var recorder = new BatchRecordingDenoiser(new TimeSensitiveDenoiser(model));
        IDenoiser denoiser = guidedDenoiser ? new TimeSensitiveGuidedDenoiser(model) : recorder;
        using var scope = NewDisposeScope();

        // Final samples in model space (before the clamp to [0, 1], which could hide differences).
        var alone = Enumerable.Range(0, 3).Select(i =>
        {
            var last = new LastSample();
            DiffusionSampler.Run(Batch(denoiser, i), last, default);
            return last.Sample!;
        }).ToArray();
        int callsAlone = recorder.Calls.Count;

        // The third loop starts one step after the other two, so the three are never at the same step index.
        var lasts = new[] { new LastSample(), new LastSample(), new LastSample() };
        var cohorts = new[] { new SamplingCohort(Batch(denoiser, 0), lasts[0]), new SamplingCohort(Batch(denoiser, 1), lasts[1]) }.ToList();
        var all = new List<SamplingCohort>(cohorts);
        int calls = 0;
        using (no_grad())
        {
            while (cohorts.Count > 0)
            {
                using (NewDisposeScope())
                {
                    SamplingCohort.StepTogether(cohorts);
                }

                calls++;
                if (calls == 1)
                {
                    all.Add(new SamplingCohort(Batch(denoiser, 2), lasts[2]));
                    cohorts.Add(all[2]);
                }

                cohorts.RemoveAll(c => c.IsFinished);
            }
        }

        calls.Should().Be(6, "the longest loop takes 6 steps and the late one ends at call 6 too (1 + 5)");
        if (!guidedDenoiser)
        {
            recorder.Calls.Count.Should().Be(callsAlone + 6, "one network call per step for all three loops (15 one after another)");
        }

        for (int i = 0; i < 3; i++)
        {
            double difference = (lasts[i].Sample! - alone[i]).abs().max().item<float>();
            difference.Should().BeLessThan(1e-4, $"loop {i}'s images do not depend on the loops it shared network calls with");
            alone[i].abs().max().item<float>().Should().BeLessThan(50, "the comparison is between finite, unsaturated samples");
            all[i].Dispose();
        }

        (alone[0].narrow(0, 0, 1) - alone[0].narrow(0, 1, 1)).abs().max().item<float>().Should().BeGreaterThan(0.05f, "images with other seeds differ");
    }

    /// <summary>Keeps a copy of the loop's sample after its last step.</summary>
    private sealed class LastSample : ISamplingObserver
    {
        public Tensor? Sample { get; private set; }

        public IReadOnlyList<int>? Keep(IReadOnlyList<int> active) => null;

        public void StepFinished(int step, int totalSteps, int timestep, IReadOnlyList<int> active, Tensor sample)
        {
            if (step == totalSteps)
            {
                Sample = sample.clone().DetachFromDisposeScope();
            }
        }
    }
}
