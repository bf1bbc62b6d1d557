using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Tests.Models;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Checkpoints;

public sealed class ModuleWeightsTests : IDisposable
{
    private static readonly ContextUnetOptions Small = new() { Features = 8 };
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Save_write_read_load_reproduces_the_model_outputs()
    {
        using var scope = torch.NewDisposeScope();
        using var source = new ContextUnet(Small, 1);
        using var target = new ContextUnet(Small, 2);
        TrainOneStep(source);
        source.eval();
        target.eval();
        var path = temp.File("unet.safetensors");

        SafeTensorsFile.Write(path, ModuleWeights.Save(source));
        var result = ModuleWeights.Load(target, SafeTensorsFile.Read(path));

        result.Missing.Should().BeEmpty();
        result.Unexpected.Should().BeEmpty();
        result.Loaded.Should().HaveCount(source.state_dict().Count);
        var inputs = new torch.Generator(3);
        var x = torch.randn(new long[] { 2, 3, 16, 16 }, generator: inputs);
        var t = torch.rand(new long[] { 2 }, generator: inputs);
        var c = torch.rand(new long[] { 2, 5 }, generator: inputs);
        TensorComparison.Identical(target.PredictNoise(x, t, c), source.PredictNoise(x, t, c)).Should().BeTrue();
        TensorComparison.Identical(target.state_dict()["init_conv.conv1.1.running_mean"], source.state_dict()["init_conv.conv1.1.running_mean"]).Should().BeTrue();
    }

    [Fact]
    public void Save_returns_detached_copies()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 1);

        var saved = ModuleWeights.Save(model);
        saved["out.3.bias"].fill_(123f);

        saved["out.3.bias"].requires_grad.Should().BeFalse();
        model.state_dict()["out.3.bias"].max().item<float>().Should().BeLessThan(123f);
    }

    [Fact]
    public void A_missing_key_is_listed_and_nothing_is_loaded()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 1);
        var before = ModuleWeights.Save(model);
        var weights = ModuleWeights.Save(new ContextUnet(Small, 2));
        weights.Remove("init_conv.shortcut.weight");

        FluentActions.Invoking(() => ModuleWeights.Load(model, weights))
            .Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "weights")
            .WithMessage("*missing (1): init_conv.shortcut.weight*");
        TensorComparison.Identical(model.state_dict()["up1.model.0.weight"], before["up1.model.0.weight"]).Should().BeTrue("a failed load must not change the model");
    }

    [Fact]
    public void A_wrong_shape_names_the_key_and_both_shapes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 1);
        var weights = ModuleWeights.Save(new ContextUnet(new ContextUnetOptions { Features = 16 }, 2));

        FluentActions.Invoking(() => ModuleWeights.Load(model, weights))
            .Should().Throw<ArgumentException>()
            .WithMessage("*init_conv.conv1.0.weight: expected shape [8, 3, 3, 3] but the weights have [16, 3, 3, 3]*");
    }

    [Fact]
    public void Unexpected_keys_fail_strict_loads_and_are_reported_by_lenient_ones()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 1);
        var weights = ModuleWeights.Save(new ContextUnet(Small, 2));
        weights["extra.weight"] = torch.zeros(3);
        weights.Remove("out.3.bias");

        FluentActions.Invoking(() => ModuleWeights.Load(model, weights))
            .Should().Throw<ArgumentException>().WithMessage("*unexpected (1): extra.weight*");

        var result = ModuleWeights.Load(model, weights, strict: false);
        result.Unexpected.Should().Equal("extra.weight");
        result.Missing.Should().Equal("out.3.bias");
        TensorComparison.Identical(model.state_dict()["out.3.weight"], weights["out.3.weight"]).Should().BeTrue();
    }

    [Fact]
    public void Lenient_loads_still_check_shapes_and_dtypes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 1);
        var weights = new Dictionary<string, Tensor>
        {
            ["out.3.bias"] = torch.zeros(4),
            ["init_conv.conv1.1.num_batches_tracked"] = torch.tensor(1.5f),
        };

        FluentActions.Invoking(() => ModuleWeights.Load(model, weights, strict: false))
            .Should().Throw<ArgumentException>()
            .WithMessage("*out.3.bias: expected shape [3] but the weights have [4]*init_conv.conv1.1.num_batches_tracked: expected dtype Int64 but the weights have Float32*");
    }

    private static void TrainOneStep(ContextUnet model)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(8);
        model.train();
        var x = torch.randn(new long[] { 4, 3, 16, 16 }, generator: generator);
        var t = torch.rand(new long[] { 4 }, generator: generator);
        var optimizer = torch.optim.Adam(model.parameters(), lr: 1e-2);
        model.PredictNoise(x, t, null).square().mean().backward();
        optimizer.step();
    }
}
