using DiffusionKit.Models;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Models;

public sealed class ContextUnetTests
{
    private static readonly ContextUnetOptions Small = new() { Features = 8, ImageSize = 16 };

    [Theory]
    [InlineData(16, 8)]
    [InlineData(32, 8)]
    [InlineData(64, 8)]
    [InlineData(16, 64)]
    public void PredictNoise_returns_the_sample_shape(int imageSize, int features)
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(1);
        using var model = new ContextUnet(new ContextUnetOptions { ImageSize = imageSize, Features = features }, generator);
        var x = torch.randn(new long[] { 2, 3, imageSize, imageSize }, generator: generator);
        var t = torch.rand(new long[] { 2 }, generator: generator);
        var c = torch.rand(new long[] { 2, 5 }, generator: generator);

        var eps = model.PredictNoise(x, t, c);
        var epsUnconditional = model.PredictNoise(x, t, null);

        eps.shape.Should().Equal(2, 3, imageSize, imageSize);
        epsUnconditional.shape.Should().Equal(2, 3, imageSize, imageSize);
        torch.isfinite(eps).all().item<bool>().Should().BeTrue();
        eps.allclose(epsUnconditional).Should().BeFalse("the context must change the prediction");
    }

    [Fact]
    public void Course_configuration_has_1481027_trainable_parameters()
    {
        using var model = new ContextUnet(new ContextUnetOptions(), new torch.Generator(0));

        var count = model.parameters().Where(p => p.requires_grad).Sum(p => p.numel());

        count.Should().Be(1_481_027);
    }

    [Fact]
    public void State_dict_keys_equal_the_PyTorch_course_names()
    {
        using var model = new ContextUnet(Small, new torch.Generator(0));

        var keys = model.state_dict().Keys.ToList();

        keys.Should().Contain(new[]
        {
            "init_conv.conv1.0.weight",
            "init_conv.conv1.0.bias",
            "init_conv.conv1.1.weight",
            "init_conv.conv1.1.running_mean",
            "init_conv.conv1.1.running_var",
            "init_conv.conv1.1.num_batches_tracked",
            "init_conv.conv2.0.weight",
            "init_conv.shortcut.weight",
            "init_conv.shortcut.bias",
            "down1.model.0.conv1.0.weight",
            "down1.model.1.conv2.1.bias",
            "down2.model.0.conv1.0.weight",
            "timeembed1.model.0.weight",
            "timeembed2.model.2.weight",
            "contextembed1.model.2.bias",
            "contextembed2.model.0.weight",
            "up0.0.weight",
            "up0.1.weight",
            "up0.1.bias",
            "up1.model.0.weight",
            "up1.model.1.conv1.0.weight",
            "up2.model.2.conv2.1.running_var",
            "out.0.weight",
            "out.1.weight",
            "out.3.bias",
        });
        keys.Should().NotContain(k => k.StartsWith("down1.model.0.shortcut", StringComparison.Ordinal), "only blocks that change the channel count with is_res have a shortcut");
        keys.Should().OnlyContain(k => !k.Contains("to_vec", StringComparison.Ordinal), "to_vec has no parameters");
        keys.Should().HaveCount(ExpectedKeyCount());
    }

    // init_conv: 2 × (conv w,b + bn w,b,mean,var,count) + shortcut w,b = 16; an RCB without shortcut = 14;
    // down1, down2: 2 RCBs = 28 each; 4 EmbedFC × 4 = 16; up0 convT w,b + GN w,b = 4;
    // up1, up2: convT w,b + 2 RCBs = 30 each; out: conv w,b + GN w,b + conv w,b = 6.
    private static int ExpectedKeyCount() => 16 + 28 + 28 + 16 + 4 + 30 + 30 + 6;

    [Fact]
    public void GroupNorm_parameters_are_ones_and_zeros()
    {
        using var model = new ContextUnet(new ContextUnetOptions(), new torch.Generator(0));
        var state = model.state_dict();

        foreach (var name in new[] { "up0.1", "out.1" })
        {
            using var ones = torch.ones_like(state[name + ".weight"]);
            TensorComparison.Identical(state[name + ".weight"], ones).Should().BeTrue($"{name}.weight starts at 1");
            state[name + ".bias"].count_nonzero().item<long>().Should().Be(0, $"{name}.bias starts at 0");
        }
    }

    [Fact]
    public void Same_seed_gives_identical_weights_and_output_and_another_seed_does_not()
    {
        using var scope = torch.NewDisposeScope();
        using var a = new ContextUnet(Small, 42);
        using var b = new ContextUnet(Small, 42);
        using var other = new ContextUnet(Small, 43);
        var inputs = new torch.Generator(7);
        var x = torch.randn(new long[] { 2, 3, 16, 16 }, generator: inputs);
        var t = torch.rand(new long[] { 2 }, generator: inputs);
        var c = torch.rand(new long[] { 2, 5 }, generator: inputs);

        foreach (var (name, weight) in a.state_dict())
        {
            TensorComparison.Identical(weight, b.state_dict()[name]).Should().BeTrue($"{name} must be reproducible from the seed");
        }

        TensorComparison.Identical(a.PredictNoise(x, t, c), b.PredictNoise(x, t, c)).Should().BeTrue();
        a.PredictNoise(x, t, c).allclose(other.PredictNoise(x, t, c)).Should().BeFalse();
    }

    [Fact]
    public void Initial_weights_follow_PyTorch_default_bounds()
    {
        using var model = new ContextUnet(Small, 3);
        var state = model.state_dict();

        // Conv2d(3, 8, 3): fan_in = 27; ConvTranspose2d(16, 16, 4, 4): fan_in = size(1) * 16 = 256.
        AbsMax(state["init_conv.conv1.0.weight"]).Should().BeLessThanOrEqualTo(1 / Math.Sqrt(27)).And.BeGreaterThan(0.8 / Math.Sqrt(27));
        AbsMax(state["up0.0.weight"]).Should().BeLessThanOrEqualTo(1 / Math.Sqrt(256)).And.BeGreaterThan(0.8 / Math.Sqrt(256));
        AbsMax(state["timeembed1.model.0.weight"]).Should().BeLessThanOrEqualTo(1.0).And.BeGreaterThan(0.8);
    }

    private static double AbsMax(Tensor tensor)
    {
        using var abs = tensor.abs();
        using var max = abs.max();
        return max.item<float>();
    }

    [Fact]
    public void PredictNoise_rejects_a_sample_of_the_wrong_size_naming_the_parameter()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);
        var x = torch.zeros(2, 3, 32, 32);
        var t = torch.zeros(2);

        var act = () => model.PredictNoise(x, t, null);

        act.Should().Throw<ArgumentException>()
            .Where(e => e.ParamName == "sample")
            .WithMessage("sample must have shape [B, 3, 16, 16] but has [2, 3, 32, 32]; resize images to ImageSize or build the model with ImageSize = 32.*");
    }

    [Fact]
    public void PredictNoise_rejects_a_sample_without_batch_dimension()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);

        var act = () => model.PredictNoise(torch.zeros(3, 16, 16), torch.zeros(1), null);

        act.Should().Throw<ArgumentException>().Where(e => e.ParamName == "sample" && e.Message.Contains("unsqueeze(0)"));
    }

    [Fact]
    public void PredictNoise_rejects_wrong_time_and_context_shapes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);
        var x = torch.zeros(2, 3, 16, 16);

        FluentActions.Invoking(() => model.PredictNoise(x, torch.zeros(3), null))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "time" && e.Message.Contains("[2]"));
        FluentActions.Invoking(() => model.PredictNoise(x, torch.zeros(2, 1), null))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "time");
        FluentActions.Invoking(() => model.PredictNoise(x, torch.zeros(2), torch.zeros(2, 4)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "context" && e.Message.Contains("[2, 5]") && e.Message.Contains("[2, 4]"));
        FluentActions.Invoking(() => model.PredictNoise(x, torch.zeros(2), torch.zeros(3, 5)))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "context");
    }

    [Fact]
    public void PredictNoise_rejects_non_finite_values_and_other_dtypes()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);
        var x = torch.zeros(2, 3, 16, 16);
        var t = torch.zeros(2);
        var badX = x.clone();
        badX[1, 2, 3, 4] = torch.tensor(float.NaN);
        var badT = torch.tensor(new[] { 0.5f, float.PositiveInfinity });
        var badC = torch.zeros(2, 5);
        badC[0, 0] = torch.tensor(float.NegativeInfinity);

        FluentActions.Invoking(() => model.PredictNoise(badX, t, null))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "sample" && e.Message.Contains("NaN"));
        FluentActions.Invoking(() => model.PredictNoise(x, badT, null))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "time" && e.Message.Contains("NaN or infinity"));
        FluentActions.Invoking(() => model.PredictNoise(x, t, badC))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "context");
        FluentActions.Invoking(() => model.PredictNoise(x.to_type(ScalarType.Float64), t, null))
            .Should().Throw<ArgumentException>().Where(e => e.ParamName == "sample" && e.Message.Contains("float32"));
    }

    [Fact]
    public void PredictNoise_does_not_modify_or_dispose_its_inputs()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);
        var generator = new torch.Generator(5);
        var x = torch.randn(new long[] { 1, 3, 16, 16 }, generator: generator);
        var copy = x.clone();
        var t = torch.full(1, 0.5f);

        using (var eps = model.PredictNoise(x, t, null))
        {
            eps.shape.Should().Equal(1, 3, 16, 16);
        }

        x.IsInvalid.Should().BeFalse();
        TensorComparison.Identical(x, copy).Should().BeTrue();
    }

    [Fact]
    public void Gradients_flow_to_every_parameter()
    {
        using var scope = torch.NewDisposeScope();
        using var model = new ContextUnet(Small, 0);
        var generator = new torch.Generator(9);
        var x = torch.randn(new long[] { 2, 3, 16, 16 }, generator: generator);
        var t = torch.rand(new long[] { 2 }, generator: generator);
        var c = torch.rand(new long[] { 2, 5 }, generator: generator);

        model.PredictNoise(x, t, c).square().mean().backward();

        foreach (var (name, parameter) in model.named_parameters())
        {
            parameter.grad.Should().NotBeNull($"{name} must receive a gradient");
            parameter.grad!.abs().sum().item<float>().Should().BeGreaterThan(0f, $"{name} must receive a non-zero gradient");
        }
    }

    [Theory]
    [InlineData(18)]
    [InlineData(4)]
    [InlineData(0)]
    public void ImageSize_must_be_a_multiple_of_four_and_at_least_eight(int imageSize)
    {
        var act = () => new ContextUnet(new ContextUnetOptions { ImageSize = imageSize });

        act.Should().Throw<ArgumentOutOfRangeException>()
            .Where(e => e.ParamName == nameof(ContextUnetOptions.ImageSize) && e.Message.Contains("multiple of 4"));
    }

    [Theory]
    [InlineData(nameof(ContextUnetOptions.Features), 12)]
    [InlineData(nameof(ContextUnetOptions.InChannels), 0)]
    [InlineData(nameof(ContextUnetOptions.ContextSize), 0)]
    public void Other_options_are_validated_naming_the_option(string option, int value)
    {
        var options = option switch
        {
            nameof(ContextUnetOptions.Features) => new ContextUnetOptions { Features = value },
            nameof(ContextUnetOptions.InChannels) => new ContextUnetOptions { InChannels = value },
            _ => new ContextUnetOptions { ContextSize = value },
        };

        options.Invoking(o => o.Validate()).Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == option);
    }

    [Fact]
    public void Exposes_the_denoiser_sizes()
    {
        using var model = new ContextUnet(new ContextUnetOptions { InChannels = 1, Features = 8, ContextSize = 7, ImageSize = 32 }, 0);
        IDenoiser denoiser = model;

        denoiser.Channels.Should().Be(1);
        denoiser.ContextSize.Should().Be(7);
        denoiser.ImageSize.Should().Be(32);
        denoiser.Device.type.Should().Be(DeviceType.CPU);
    }
}
