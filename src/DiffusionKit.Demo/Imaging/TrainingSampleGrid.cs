using DiffusionKit.Checkpoints;
using DiffusionKit.Imaging;
using DiffusionKit.Training;

namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// Lays out the images a <see cref="TrainingSampleWriter"/> drew for one snapshot (<see cref="TrainingSampleWriter.Draw"/>)
/// as one labelled grid PNG, <c>step-0000100.png</c>: a row per prompt, its images side by side, the prompt under the
/// row's first image. The CLI's <c>train --sample-every</c> writes these.
/// </summary>
/// <example>
/// <code>
/// using var samples = new TrainingSampleWriter("run/samples", model, scheduler, encoder, ["a red circle"]);
/// var callbacks = new TrainingCallbacks { Sample = s => TrainingSampleGrid.Save(samples.Draw(s), samples.Folder) };
/// </code>
/// </example>
public static class TrainingSampleGrid
{
    /// <summary>
    /// Composes the grid: <see cref="TrainingSampleSet.PerPrompt"/> columns, cells upscaled to about 64 pixels
    /// (<c>max(1, 64 / width)</c> times), 2 pixels of padding, captions drawn with <see cref="BitmapFont"/>.
    /// </summary>
    /// <param name="samples">The drawn images.</param>
    /// <returns>The grid image.</returns>
    public static RgbImage Compose(TrainingSampleSet samples)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var labels = Enumerable.Range(0, samples.Images.Count)
            .Select(k => k % samples.PerPrompt == 0 ? samples.Prompts[k / samples.PerPrompt] : null)
            .ToList();
        int size = samples.Images[0].Width;
        return ImageGrid.Compose(samples.Images, new ImageGridOptions { Columns = samples.PerPrompt, Scale = Math.Max(1, 64 / size), Padding = 2 }, labels);
    }

    /// <summary>Composes the grid (<see cref="Compose"/>) and writes it atomically to <c>folder/step-NNNNNNN.png</c>.</summary>
    /// <param name="samples">The drawn images.</param>
    /// <param name="folder">The folder; created if missing. An existing grid of the same step is replaced.</param>
    /// <returns>The PNG written.</returns>
    public static string Save(TrainingSampleSet samples, string folder)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        RgbImage grid = Compose(samples);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, CheckpointDirectory.StepFolderName(samples.Step) + ".png");
        PngEncoder.Save(grid, path);
        return path;
    }
}
