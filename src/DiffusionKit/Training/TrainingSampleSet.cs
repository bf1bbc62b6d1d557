using DiffusionKit.Imaging;

namespace DiffusionKit.Training;

/// <summary>
/// The images a <see cref="TrainingSampleWriter"/> drew for one training snapshot: <see cref="PerPrompt"/> images of each
/// of the <see cref="Prompts"/>, prompt by prompt.
/// </summary>
/// <remarks>The set copies the lists it is given, not the images: an <see cref="RgbImage"/>'s pixels stay writable.</remarks>
public sealed class TrainingSampleSet
{
    /// <summary>Creates a set.</summary>
    /// <param name="step">The optimiser step the images show.</param>
    /// <param name="prompts">The prompts, in order; at least one.</param>
    /// <param name="perPrompt">Images per prompt; 1 or more.</param>
    /// <param name="images">The images, prompt by prompt (<c>prompts.Count * perPrompt</c> of them), all the same size.</param>
    /// <exception cref="ArgumentException">No prompts, a null prompt or image, the wrong number of images, or images of different sizes.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is negative or <paramref name="perPrompt"/> is below 1.</exception>
    public TrainingSampleSet(int step, IReadOnlyList<string> prompts, int perPrompt, IReadOnlyList<RgbImage> images)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        ArgumentNullException.ThrowIfNull(prompts);
        ArgumentOutOfRangeException.ThrowIfLessThan(perPrompt, 1);
        ArgumentNullException.ThrowIfNull(images);
        if (prompts.Count == 0 || prompts.Any(p => p is null))
        {
            throw new ArgumentException("Give at least one prompt, and no null prompts.", nameof(prompts));
        }

        if (images.Count != prompts.Count * perPrompt)
        {
            throw new ArgumentException($"{prompts.Count} prompts of {perPrompt} images need {prompts.Count * perPrompt} images, not {images.Count}.", nameof(images));
        }

        if (images.Any(i => i is null) || images.Any(i => i.Width != images[0].Width || i.Height != images[0].Height))
        {
            throw new ArgumentException("The images must all be given and all be the same size.", nameof(images));
        }

        Step = step;
        Prompts = prompts.ToArray();
        PerPrompt = perPrompt;
        Images = images.ToArray();
    }

    /// <summary>The optimiser step the images show.</summary>
    public int Step { get; }

    /// <summary>The prompts, in order.</summary>
    public IReadOnlyList<string> Prompts { get; }

    /// <summary>Images per prompt.</summary>
    public int PerPrompt { get; }

    /// <summary>The images, prompt by prompt: image <c>i</c> of prompt <c>p</c> is at <c>p * PerPrompt + i</c>.</summary>
    public IReadOnlyList<RgbImage> Images { get; }

    /// <summary>Image <paramref name="index"/> of prompt <paramref name="prompt"/>.</summary>
    /// <param name="prompt">The prompt's index in <see cref="Prompts"/>.</param>
    /// <param name="index">The image's index among the prompt's images, below <see cref="PerPrompt"/>.</param>
    /// <returns>The image.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public RgbImage Image(int prompt, int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(prompt);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(prompt, Prompts.Count);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, PerPrompt);
        return Images[(prompt * PerPrompt) + index];
    }
}
