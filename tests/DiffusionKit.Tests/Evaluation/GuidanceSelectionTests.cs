using DiffusionKit.Evaluation;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Evaluation;

public sealed class GuidanceSelectionTests
{
    [Fact]
    public void The_lowest_distance_within_the_accuracy_tolerance_wins()
    {
        // Product photos (session 18): weaker guidance is more varied but misses captions.
        var measured = new[]
        {
            new SampleQuality(0.5, 0.90, 2.0, 70),
            new SampleQuality(1, 0.99, 3.0, 70),
            new SampleQuality(2, 1.00, 4.0, 70),
        };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(1, "0.5 falls 0.10 below the best accuracy; of 1 and 2 (within 0.02), 1 is closer to the real images");
    }

    [Fact]
    public void Accuracy_alone_decides_when_only_one_candidate_is_near_the_best()
    {
        var measured = new[] { new SampleQuality(0, 0.5, 1.0, 10), new SampleQuality(3, 0.9, 9.0, 10) };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(3);
    }

    [Fact]
    public void Ties_go_to_the_weaker_guidance()
    {
        var measured = new[] { new SampleQuality(2, 1.0, 1.0, 10), new SampleQuality(1, 1.0, 1.0, 10) };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(1);
    }

    [Fact]
    public void Describe_states_every_measurement_and_the_choice()
    {
        var measured = new[] { new SampleQuality(0.5, 0.9, 2.0, 70), new SampleQuality(1, 0.99, 3.25, 70) };
        GuidanceSelection.Describe(measured, measured[1]).Should()
            .Be("w 0.5: accuracy 0.900, feature distance 2; w 1: accuracy 0.990, feature distance 3.25 -> w 1 (the lowest distance within 0.02 of the best accuracy)");
    }

    [Fact]
    public void Empty_or_non_finite_measurements_are_refused()
    {
        FluentActions.Invoking(() => GuidanceSelection.Choose([])).Should().Throw<ArgumentException>().Where(e => e.ParamName == "measured");
        FluentActions.Invoking(() => GuidanceSelection.Choose([new SampleQuality(1, double.NaN, 1, 10)])).Should().Throw<ArgumentException>().WithMessage("*non-finite*");
    }
}
