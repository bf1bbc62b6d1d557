using DiffusionKit.Demo.Shapes;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Training;

namespace DiffusionKit.Server.Tests;

/// <summary>A tiny trained checkpoint (8-feature U-Net, 16x16 shapes, the shapes vocabulary, a few training steps) in a temporary folder.</summary>
internal sealed class TinyCheckpoint : IDisposable
{
    private TinyCheckpoint(string path) => Path = path;

    /// <summary>The checkpoint folder.</summary>
    public string Path { get; }

    /// <summary>Trains and saves a checkpoint (a few seconds on 2 cores).</summary>
    public static TinyCheckpoint Create()
    {
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dk-server-" + Guid.NewGuid().ToString("N"));
        var encoder = ShapesCatalog.CreateEncoder();
        using var trainer = new DiffusionPipelineBuilder()
            .UseTextEncoder(encoder)
            .UseModel(new ContextUnetOptions { Features = 8, ImageSize = 16, ContextSize = encoder.ContextSize })
            .UseSeed(1)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 3, BatchSize = 8, Seed = 1 });
        trainer.Train(new ShapesDataset(new ShapesDatasetOptions { Count = 32, Seed = 1 }));
        trainer.SaveCheckpoint(folder);
        return new TinyCheckpoint(folder);
    }

    /// <summary>A copy of this checkpoint in a new temporary folder.</summary>
    public TinyCheckpoint Copy()
    {
        string folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dk-server-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        foreach (var file in Directory.GetFiles(Path))
        {
            File.Copy(file, System.IO.Path.Combine(folder, System.IO.Path.GetFileName(file)));
        }

        return new TinyCheckpoint(folder);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }
}
