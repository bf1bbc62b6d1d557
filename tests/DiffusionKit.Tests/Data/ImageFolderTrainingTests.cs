using DiffusionKit.Data;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Data;

/// <summary>The trainer reads streamed and augmented image folders batch by batch.</summary>
public sealed class ImageFolderTrainingTests
{
    private static void MakeFolder(string root)
    {
        for (int i = 0; i < 8; i++)
        {
            ImageFiles.Solid(Path.Combine(root, "red", $"{i}.png"), 8, 8, (byte)(150 + (10 * i)), 0, 0);
            ImageFiles.Solid(Path.Combine(root, "blue", $"{i}.png"), 8, 8, 0, 0, (byte)(150 + (10 * i)));
        }
    }

    private static float[] Train(ImageFolderDataset data)
    {
        var encoder = BagOfWordsEncoder.FromCaptions(data.DistinctCaptions);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = encoder.ContextSize }, seed: 3);
        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 5, BatchSize = 4, Seed = 7 })
            .Train(model, new DdpmScheduler(), data, encoder);
        return model.parameters().SelectMany(p => p.detach().flatten().data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void A_streamed_folder_trains_the_same_weights_as_a_cached_one()
    {
        using var dir = new TempDirectory();
        MakeFolder(dir.Path);
        var cached = ImageFolderDataset.Open(dir.Path);
        var streamed = ImageFolderDataset.Open(dir.Path, new ImageFolderOptions { MaxCacheBytes = 2 * 8 * 8 * 3 });
        streamed.IsStreaming.Should().BeTrue();

        Train(streamed).Should().Equal(Train(cached), "the same batches in the same order, read from disk instead of memory");
        streamed.ResidentBytes.Should().BeLessThanOrEqualTo(2 * 8 * 8 * 3);
    }

    [Fact]
    public void Augmented_training_is_seeded_and_differs_from_plain_training()
    {
        using var dir = new TempDirectory();
        MakeFolder(dir.Path);
        var plain = ImageFolderDataset.Open(dir.Path);

        // Solid images look the same flipped, so flip a half-and-half image set instead.
        using var dir2 = new TempDirectory();
        for (int i = 0; i < 8; i++)
        {
            var samples = new byte[8 * 8 * 3];
            for (int y = 0; y < 8; y++)
            {
                for (int x = 0; x < 4; x++)
                {
                    samples[((y * 8) + x) * 3] = (byte)(100 + (10 * i));
                }
            }

            ImageFiles.Png(Path.Combine(dir2.Path, "left", $"{i}.png"), 8, 8, ImageFiles.Rgb, samples);
        }

        var unflipped = ImageFolderDataset.Open(dir2.Path);
        var flipped = ImageFolderDataset.Open(dir2.Path, new ImageFolderOptions { RandomFlip = true });

        var a = Train(flipped);
        Train(flipped).Should().Equal(a, "augmentation draws from the training seed");
        Train(unflipped).Should().NotEqual(a, "flipped batches change the gradients");
        Train(plain).Should().NotBeEmpty();
    }
}
