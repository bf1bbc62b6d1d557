using DiffusionKit.Cli.Commands;
using DiffusionKit.Models;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary>The figures the bench reports against: network FLOPs and the machine's FMA peak.</summary>
public sealed class BenchFiguresTests
{
    [Fact]
    public void The_course_network_costs_301_MFLOP_per_image_forward()
        => NetworkFlops.Forward(new ContextUnetOptions { Features = 64, ContextSize = 5, ImageSize = 16 }).Should().BeApproximately(301e6, 1.5e6);

    [Fact]
    public void A_guided_prediction_runs_the_181_MFLOP_context_free_part_once_and_the_rest_twice()
    {
        var options = new ContextUnetOptions { Features = 64, ContextSize = 5, ImageSize = 16 };
        double forward = NetworkFlops.Forward(options);
        double guided = NetworkFlops.Guided(options);
        (2 * forward - guided).Should().BeApproximately(180.8e6, 0.1e6, "init_conv, down1, down2, up0 and the output convolution's share reading init_conv at n_feat 64, 16x16");
        (guided / forward).Should().BeInRange(1.39, 1.41);
    }

    [Fact]
    public void Narrower_networks_cost_about_the_square_of_the_width_ratio_less_and_larger_images_the_area_ratio_more()
    {
        double n64 = NetworkFlops.Forward(new ContextUnetOptions { Features = 64, ContextSize = 5, ImageSize = 16 });
        double n32 = NetworkFlops.Forward(new ContextUnetOptions { Features = 32, ContextSize = 5, ImageSize = 16 });
        double big = NetworkFlops.Forward(new ContextUnetOptions { Features = 64, ContextSize = 5, ImageSize = 32 });
        (n64 / n32).Should().BeInRange(3.5, 4.0, "convolutions dominate and scale with n_feat squared, the input layers less");
        (big / n64).Should().BeApproximately(4, 0.05, "every layer scales with the pixel count");
    }

    [Fact]
    public void The_fma_peak_measurement_reports_a_vector_width_and_a_positive_rate()
    {
        var peak = FmaPeak.Measure(threads: 1, iterations: 20_000, repetitions: 2);
        peak.VectorBits.Should().BeOneOf(128, 256, 512);
        peak.Threads.Should().Be(1);
        peak.GigaFlops.Should().BeGreaterThan(1, "any CPU that runs .NET does more than a billion float FMAs a second");
    }
}
