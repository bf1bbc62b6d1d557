namespace DiffusionKit.Quality;

/// <summary>
/// Settings of <see cref="CaptionClassifier.Train"/>. The defaults train in about 17 s on 2 CPU cores at 28×28 grayscale
/// and recognise 0.95 of held-out product photos of 7 classes (docs/training.md, "Sample quality").
/// </summary>
public sealed record CaptionClassifierOptions
{
    /// <summary>Optimiser steps (Adam, learning rate decayed to 0 on a cosine). Default 1,500.</summary>
    public int Steps { get; init; } = 1500;

    /// <summary>Images per step, drawn with replacement. Default 64.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam's peak learning rate. Default 0.003.</summary>
    public double LearningRate { get; init; } = 0.003;

    /// <summary>Channels of the first convolution (the others have twice as many). Default 32.</summary>
    public int Width { get; init; } = 32;

    /// <summary>Units of the feature layer, the length of <see cref="CaptionClassifier.Features"/>' rows. Default 32.</summary>
    public int FeatureSize { get; init; } = 32;

    /// <summary>Seed of the weights and of the batches. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>The most distinct captions (classes) a folder may have. Default 100.</summary>
    public int MaxClasses { get; init; } = 100;

    /// <summary>The fewest images each caption needs. Default 10.</summary>
    public int MinImagesPerClass { get; init; } = 10;

    /// <summary>Throws when a setting is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Naming the setting.</exception>
    public void Validate()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(Steps, 1, nameof(Steps));
        ArgumentOutOfRangeException.ThrowIfLessThan(BatchSize, 1, nameof(BatchSize));
        if (!(double.IsFinite(LearningRate) && LearningRate > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "The learning rate must be a finite number above 0.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(Width, 1, nameof(Width));
        ArgumentOutOfRangeException.ThrowIfLessThan(FeatureSize, 1, nameof(FeatureSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxClasses, 2, nameof(MaxClasses));
        ArgumentOutOfRangeException.ThrowIfLessThan(MinImagesPerClass, 1, nameof(MinImagesPerClass));
    }
}
