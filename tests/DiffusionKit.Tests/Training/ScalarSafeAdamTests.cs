using DiffusionKit.Training;
using FluentAssertions;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Training;

public sealed class ScalarSafeAdamTests
{
    [Fact]
    public void Steps_and_state_equal_torchsharps_adam_bit_for_bit()
    {
        using var generator = new Generator(11);
        using var start = randn(new long[] { 3, 7 }, generator: generator);
        var grads = Enumerable.Range(0, 5).Select(_ => randn(new long[] { 3, 7 }, generator: generator)).ToList();
        var ours = new Parameter(start.clone());
        var theirs = new Parameter(start.clone());
        using var safe = new ScalarSafeAdam(new[] { ours }, lr: 3e-3);
        using var reference = optim.Adam(new[] { theirs }, lr: 3e-3);

        foreach (var grad in grads)
        {
            ours.grad = grad.clone();
            theirs.grad = grad.clone();
            safe.step();
            reference.step();
        }

        ours.eq(theirs).all().item<bool>().Should().BeTrue("the same arithmetic in the same order");
        var a = (Adam.State)safe.state_dict().State[0];
        var b = (Adam.State)reference.state_dict().State[0];
        a.step.Should().Be(5).And.Be(b.step);
        a.exp_avg.eq(b.exp_avg).all().item<bool>().Should().BeTrue();
        a.exp_avg_sq.eq(b.exp_avg_sq).all().item<bool>().Should().BeTrue();
    }
}
