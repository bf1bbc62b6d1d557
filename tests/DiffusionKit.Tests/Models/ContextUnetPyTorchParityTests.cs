using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Models;

/// <summary>
/// Compares ContextUnet with the course's PyTorch ContextUnet (shortcut registered), trained for a few Adam steps
/// and saved by Fixtures/pytorch_contextunet/make_fixture.py with PyTorch 1.13.
/// </summary>
public sealed class ContextUnetPyTorchParityTests
{
    private static readonly string FixtureFolder = Path.Combine(AppContext.BaseDirectory, "Fixtures", "pytorch_contextunet");

    [Fact]
    public void PyTorch_weights_load_strictly_and_reproduce_PyTorch_outputs()
    {
        using var scope = torch.NewDisposeScope();
        var weights = SafeTensorsFile.Read(Path.Combine(FixtureFolder, "weights.safetensors"), out var metadata);
        var io = SafeTensorsFile.Read(Path.Combine(FixtureFolder, "io.safetensors"));
        metadata["n_feat"].Should().Be("16");
        using var model = new ContextUnet(new ContextUnetOptions { Features = 16, ContextSize = 5, ImageSize = 16, InChannels = 3 }, 0);

        var result = ModuleWeights.Load(model, weights);
        model.eval();
        var eps = model.PredictNoise(io["x"], io["t"], io["c"]);
        var epsUnconditional = model.PredictNoise(io["x"], io["t"], null);

        result.Loaded.Should().HaveCount(158);
        MaxAbsDifference(eps, io["eps"]).Should().BeLessThan(1e-4);
        MaxAbsDifference(epsUnconditional, io["eps_uncond"]).Should().BeLessThan(1e-4);
        MaxAbsDifference(eps, epsUnconditional).Should().BeGreaterThan(1e-3, "the fixture must exercise the context path");
    }

    [Fact]
    public void Fixture_running_statistics_are_not_the_defaults()
    {
        using var scope = torch.NewDisposeScope();
        var weights = SafeTensorsFile.Read(Path.Combine(FixtureFolder, "weights.safetensors"));

        weights["init_conv.conv1.1.num_batches_tracked"].item<long>().Should().Be(20);
        weights["init_conv.conv1.1.running_mean"].abs().max().item<float>().Should().BeGreaterThan(1e-3f);
    }

    private static double MaxAbsDifference(Tensor a, Tensor b)
    {
        a.shape.Should().Equal(b.shape);
        using var difference = (a - b).abs().max();
        return difference.item<float>();
    }
}
