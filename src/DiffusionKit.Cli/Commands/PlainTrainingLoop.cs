using System.Diagnostics;
using DiffusionKit.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// The benchmark's baseline: the training step written by hand as a TorchSharp user would (random batch, noising,
/// forward, MSE, backward, Adam, one dispose scope), with no DiffusionKit trainer around it.
/// </summary>
internal static class PlainTrainingLoop
{
    /// <summary>Runs warm-up then timed steps; returns images per second over the timed steps.</summary>
    public static double Run(ContextUnetOptions options, int batch, int warmup, int steps)
    {
        using var model = new ContextUnet(options, seed: 0);
        model.train();
        using var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
        using var generator = new Generator(1);
        using var data = rand(new long[] { 1000, options.InChannels, options.ImageSize, options.ImageSize }, generator: generator) * 2 - 1;
        using var contexts = rand(new long[] { 1000, options.ContextSize }, generator: generator);
        var alphaBar = Enumerable.Range(0, 501).Select(t => Math.Exp(Enumerable.Range(0, t + 1).Sum(k => Math.Log(1 - (1e-4 + (0.0199 * k / 500)))))).ToArray();
        using var sqrtAb = tensor(alphaBar.Select(a => (float)Math.Sqrt(a)).ToArray());
        using var sqrtOneMinusAb = tensor(alphaBar.Select(a => (float)Math.Sqrt(1 - a)).ToArray());
        var clock = new Stopwatch();
        for (int i = 0; i < warmup + steps; i++)
        {
            if (i == warmup)
            {
                clock.Start();
            }

            using var scope = NewDisposeScope();
            var index = randint(0, 1000, new long[] { batch }, generator: generator);
            var x0 = data.index_select(0, index);
            var c = contexts.index_select(0, index);
            var t = randint(1, 501, new long[] { batch }, generator: generator);
            var noise = randn(x0.shape, generator: generator);
            var xt = (sqrtAb.index_select(0, t).view(-1, 1, 1, 1) * x0) + (sqrtOneMinusAb.index_select(0, t).view(-1, 1, 1, 1) * noise);
            var loss = nn.functional.mse_loss(model.call(xt, t.to(ScalarType.Float32) / 500.0, c), noise);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            loss.item<float>();
        }

        return steps * batch / clock.Elapsed.TotalSeconds;
    }
}
