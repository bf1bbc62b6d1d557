using System.Globalization;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// The largest values <see cref="DiffusionCheckpoint.ReadConfig(string)"/> and <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/> accept.
/// They are checked when <c>config.json</c> is read, before anything is allocated, so a small file cannot declare a
/// network or a schedule that exhausts memory; each bound is far above what the context U-Net is used with.
/// </summary>
public static class CheckpointLimits
{
    /// <summary>Largest <c>config.json</c>: 1 MiB (a real one is under 4 KB).</summary>
    public const long MaxConfigBytes = 1 << 20;

    /// <summary>Largest <c>model.in_channels</c>: 64 (3 for RGB, 4 for RGBA or latents).</summary>
    public const int MaxInChannels = 64;

    /// <summary>Largest <c>model.n_feat</c>: 1024 (the course uses 64).</summary>
    public const int MaxFeatures = 1024;

    /// <summary>Largest <c>model.n_cfeat</c>: 65,536 (the course uses 5, bag-of-words one per word, MiniLM 384).</summary>
    public const int MaxContextSize = 65_536;

    /// <summary>Largest <c>model.height</c>: 512 pixels (the course uses 16; the up path's first layer grows with (height / 4)²).</summary>
    public const int MaxImageSize = 512;

    /// <summary>Largest <c>scheduler.num_train_timesteps</c>: 100,000 (the course uses 500, diffusers 1000).</summary>
    public const int MaxTrainTimesteps = 100_000;

    /// <summary>Largest <c>text_encoder.vocabulary</c>: 100,000 words.</summary>
    public const int MaxVocabularySize = 100_000;

    /// <summary>Largest <c>text_encoder.dim</c>: 4096.</summary>
    public const int MaxEncoderDimension = 4096;

    /// <summary>
    /// Checks every bounded field of <paramref name="config"/> outside <c>model</c> (whose <see cref="Models.DenoiserType"/>
    /// bounds it; <see cref="Models.ContextUnetType"/> uses the <c>model.*</c> limits here); <paramref name="path"/> names the file in messages.
    /// </summary>
    /// <exception cref="InvalidDataException">A field is outside its bounds; the message names the file, the field and the bounds.</exception>
    internal static void Check(CheckpointConfig config, string path)
    {
        var scheduler = config.Scheduler;
        Range(path, "scheduler.num_train_timesteps", scheduler.TrainTimesteps, 1, MaxTrainTimesteps, "the course uses 500, diffusers 1000");
        Range(path, "scheduler.steps_offset", scheduler.StepsOffset, 0, scheduler.TrainTimesteps - 1, "below num_train_timesteps");
        Finite(path, "scheduler.beta_start", scheduler.BetaStart);
        Finite(path, "scheduler.beta_end", scheduler.BetaEnd);
        Finite(path, "scheduler.clip_sample_range", scheduler.ClipSampleRange);

        if (config.Sampling is { } sampling)
        {
            if (sampling.GuidanceConvention is { } convention && convention != CheckpointConfig.SamplingConfig.DiffusersConvention)
            {
                throw new InvalidDataException($"'{path}': field 'sampling.guidance_convention' is '{convention}'; the known convention is '{CheckpointConfig.SamplingConfig.DiffusersConvention}' (absent: 'guidance_scale' is the weight w of files written before it).");
            }

            // diffusers' s (0..Max + 1) or, in older files, the weight w (0..Max): either way the weight must be in range.
            if (sampling.GuidanceScale is { } scale && !(double.IsFinite(scale) && scale >= 0 && GuidanceRange.Contains(sampling.GuidanceWeight!.Value)))
            {
                double max = sampling.GuidanceConvention is null ? GuidanceRange.Max : GuidanceRange.Max + 1;
                throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"'{path}': field 'sampling.guidance_scale' is {scale}; it must be a finite number within 0..{max} ({(sampling.GuidanceConvention is null ? "the weight w of a file without 'guidance_convention'" : "diffusers' s; s ≤ 1 turns guidance off")})."));
            }
        }

        var encoder = config.TextEncoder;
        if (encoder.Vocabulary is { Count: > MaxVocabularySize } vocabulary)
        {
            throw Field(path, "text_encoder.vocabulary", vocabulary.Count, $"holds more than {MaxVocabularySize.ToString(CultureInfo.InvariantCulture)} words");
        }

        if (encoder.StopWords is { Count: > MaxVocabularySize } stopWords)
        {
            throw Field(path, "text_encoder.stop_words", stopWords.Count, $"holds more than {MaxVocabularySize.ToString(CultureInfo.InvariantCulture)} words");
        }

        if (encoder.Dimension is int dimension)
        {
            Range(path, "text_encoder.dim", dimension, 1, MaxEncoderDimension, "the embedding width");
        }
    }

    private static void Range(string path, string field, long value, long min, long max, string hint)
    {
        if (value < min || value > max)
        {
            throw Field(path, field, value, FormattableString.Invariant($"must be in {min}..{max} ({hint}; see CheckpointLimits)"));
        }
    }

    private static void Finite(string path, string field, double value)
    {
        if (!double.IsFinite(value))
        {
            throw new InvalidDataException($"'{path}': field '{field}' is {value.ToString(CultureInfo.InvariantCulture)}; it must be a finite number.");
        }
    }

    private static InvalidDataException Field(string path, string field, long value, string rule) =>
        new($"'{path}': field '{field}' is {value.ToString(CultureInfo.InvariantCulture)}; it {rule}.");
}
