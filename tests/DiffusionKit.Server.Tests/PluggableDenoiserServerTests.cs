using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace DiffusionKit.Server.Tests;

/// <summary>The sample server serves a denoiser other than the context U-Net once its type is registered in DI.</summary>
public sealed class PluggableDenoiserServerTests
{
    [Fact]
    public async Task A_registered_second_denoiser_serves_over_http_and_an_unregistered_one_refuses_to_start()
    {
        string folder = Path.Combine(Path.GetTempPath(), "dk-server-conv-" + Guid.NewGuid().ToString("N"));
        try
        {
            var encoder = ShapesCatalog.CreateEncoder();
            using (var model = new TinyConvDenoiser(channels: 3, imageSize: 16, contextSize: encoder.ContextSize, hidden: 16, seed: 4))
            using (var trainer = new DiffusionPipelineBuilder().UseTextEncoder(encoder).UseModel(model).UseSeed(1)
                .BuildTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 8, Seed = 1 }))
            {
                trainer.Train(new ShapesDataset(new ShapesDatasetOptions { Count = 32, Seed = 1 }));
                trainer.SaveCheckpoint(folder);
            }

            var settings = new Dictionary<string, string> { ["DiffusionKit:CheckpointPath"] = folder, ["DiffusionKit:Steps"] = "3" };
            await using (var server = await RunningServer.StartAsync(settings, services => services.AddDiffusionKitDenoiserType(TinyConvDenoiserType.Instance)))
            {
                server.App.Services.GetRequiredService<DiffusionPipeline>().Model.Should().BeOfType<TinyConvDenoiser>();
                using var first = await server.Client.GetAsync("/v1/images?prompt=a%20red%20circle&seed=3");
                using var again = await server.Client.GetAsync("/v1/images?prompt=a%20red%20circle&seed=3");
                using var other = await server.Client.GetAsync("/v1/images?prompt=a%20blue%20square&seed=3");

                first.StatusCode.Should().Be(System.Net.HttpStatusCode.OK);
                first.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
                var a = PngDecoder.Decode(await first.Content.ReadAsByteArrayAsync());
                var b = PngDecoder.Decode(await again.Content.ReadAsByteArrayAsync());
                var c = PngDecoder.Decode(await other.Content.ReadAsByteArrayAsync());
                (a.Width, a.Height).Should().Be((16, 16));
                a.Pixels.ToArray().Should().Equal(b.Pixels.ToArray(), "the same prompt and seed give the same pixels");
                a.Pixels.ToArray().Should().NotEqual(c.Pixels.ToArray(), "the prompt reaches the network");
            }

            await using var unregistered = ServerApp.Build(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=None", $"--DiffusionKit:CheckpointPath={folder}"]);
            var start = await unregistered.Invoking(app => app.StartAsync()).Should().ThrowAsync<InvalidDataException>();
            start.Which.Message.Should().Contain("'model.type' is 'TinyConvNet'").And.Contain("AddDiffusionKitDenoiserType");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
