using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Pipeline;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Sampling;

/// <summary>
/// One driver, one seeding rule: an image is reproducible from its seed through the library's sampler, the pipeline
/// (which the CLI and the server call) and the training samples.
/// </summary>
public sealed class SamplingRoutesTests
{
    private static readonly string[] Prompts = ["red circle", "blue square"];

    [Fact]
    public async Task Image_k_of_a_library_call_is_image_k_of_a_pipeline_request_with_the_same_seed()
    {
        using var pipeline = TinyPipelines.Builder().UseSampler(SamplerKind.DpmSolverMultistepSde, 3).UseGuidance(2).UsePrecision(DiffusionKit.Training.Precision.Float32).Build();
        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = Prompts, ImagesPerPrompt = 2, Seed = 11 });

        RgbImage[] library;
        using (var scope = NewDisposeScope())
        {
            var context = pipeline.Encoder.Encode([Prompts[0], Prompts[0], Prompts[1], Prompts[1]]);
            var scheduler = SchedulerFactory.Create(new SchedulerOptions { Algorithm = SamplerKind.DpmSolverMultistepSde, InferenceSteps = 3 });
            var images = new DiffusionSampler().Sample(pipeline.Denoiser, scheduler, context,
                new SamplingOptions { Seed = 11, GuidanceScale = 2, UnconditionalContext = pipeline.Encoder.EncodeUnconditional() });
            library = ImageTensors.ToRgbImages(images);
        }

        result.Images.Select(i => i.Seed).Should().Equal(11, 12, 13, 14);
        for (int k = 0; k < 4; k++)
        {
            library[k].Pixels.ToArray().Should().Equal(result.Images[k].Pixels.ToArray(), $"image {k} has seed {11 + k} in both routes");
        }

        library[0].Pixels.ToArray().Should().NotEqual(library[1].Pixels.ToArray(), "each image has its own seed");
    }

    [Fact]
    public async Task A_training_sample_is_reproduced_by_the_pipeline_from_the_checkpoint_with_its_seed()
    {
        using var folder = new TempDirectory();
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary("red", "blue").UseModel(new DiffusionKit.Models.ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 2 })
            .UseSampler(SamplerKind.DpmSolverMultistepSde, 3).UseGuidance(2).UseSeed(5)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 8, Seed = 1, SampleEvery = 2, SamplePrompts = ["red", "blue"] });
        trainer.Train(new SquaresDataset(16), folder.Path);
        using var pipeline = new DiffusionPipelineBuilder().FromCheckpoint(folder.Path)
            .UseSampler(SamplerKind.DpmSolverMultistepSde, 3).UseGuidance(2).UsePrecision(DiffusionKit.Training.Precision.Float32).Build();

        var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["red", "blue"], ImagesPerPrompt = 4, Seed = 5 });

        string step = Path.Combine(folder.Path, "samples", "step-0000002");
        for (int p = 0; p < 2; p++)
        {
            for (int i = 0; i < 4; i++)
            {
                var written = PngDecoder.Load(Path.Combine(step, TrainingSampleWriter.FileName(p, i)));
                written.Pixels.ToArray().Should().Equal(result.Images[(p * 4) + i].Pixels.ToArray(), $"training sample p{p} i{i} is the request's image {(p * 4) + i} (seed {5 + (p * 4) + i})");
            }
        }
    }

    [Fact]
    public void Dependency_injection_offers_the_library_sampler_as_ISampler()
    {
        using var services = new ServiceCollection().AddDiffusionKit().BuildServiceProvider();

        services.GetRequiredService<ISampler>().Should().BeOfType<DiffusionSampler>()
            .And.BeSameAs(services.GetRequiredService<ISampler>());
    }
}
