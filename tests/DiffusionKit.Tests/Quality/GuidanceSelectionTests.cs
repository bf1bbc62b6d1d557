using DiffusionKit.Quality;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Quality;

public sealed class GuidanceSelectionTests
{
    [Fact]
    public void The_lowest_distance_among_the_adhering_candidates_wins()
    {
        // The product-photo checkpoint of session 18: accuracy saturates, confidence and distance both rise with guidance.
        var measured = new[]
        {
            new SampleQuality(0.5, 1, 0.9737, 4.04, 70),
            new SampleQuality(1, 1, 0.9826, 6.53, 70),
            new SampleQuality(2, 1, 0.9855, 11.45, 70),
        };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(1, "0.5 is 0.0118 below the best confidence (0.9855); of 1 (0.0029 below) and 2, 1 is closer to the real images");
    }

    [Fact]
    public void On_digits_too_the_middle_guidance_wins()
    {
        var measured = new[]
        {
            new SampleQuality(0.5, 0.98, 0.9793, 12.87, 100),
            new SampleQuality(1, 0.99, 0.9881, 17.34, 100),
            new SampleQuality(2, 1, 0.9958, 30.49, 100),
        };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(1);
    }

    [Fact]
    public void Adherence_alone_decides_when_only_one_candidate_adheres()
    {
        var measured = new[] { new SampleQuality(0, 0.5, 0.5, 1.0, 10), new SampleQuality(3, 0.9, 0.9, 9.0, 10) };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(3);
    }

    [Fact]
    public void Ties_go_to_the_weaker_guidance()
    {
        var measured = new[] { new SampleQuality(2, 1, 0.99, 1.0, 10), new SampleQuality(1, 1, 0.99, 1.0, 10) };
        GuidanceSelection.Choose(measured).Guidance.Should().Be(1);
    }

    [Fact]
    public void Describe_states_every_measurement_and_the_choice()
    {
        var measured = new[] { new SampleQuality(0.5, 0.9, 0.95, 2.0, 70), new SampleQuality(1, 0.99, 0.98, 3.25, 70) };
        GuidanceSelection.Describe(measured, measured[1]).Should()
            .Be("w 0.5: accuracy 0.900, confidence 0.9500, feature distance 2; w 1: accuracy 0.990, confidence 0.9800, feature distance 3.25 -> w 1 (the lowest distance among those within 0.01 of the best confidence)");
    }

    [Fact]
    public void Empty_or_non_finite_measurements_are_refused()
    {
        FluentActions.Invoking(() => GuidanceSelection.Choose([])).Should().Throw<ArgumentException>().Where(e => e.ParamName == "measured");
        FluentActions.Invoking(() => GuidanceSelection.Choose([new SampleQuality(1, 1, double.NaN, 1, 10)])).Should().Throw<ArgumentException>().WithMessage("*non-finite*");
    }
}
