namespace DiffusionKit.Training;

/// <summary>How the learning rate changes over a training run.</summary>
public enum LearningRateSchedule
{
    /// <summary>Decays linearly from the initial rate to 0 over the run (the course's schedule).</summary>
    Linear,

    /// <summary>Keeps the initial rate.</summary>
    Constant,

    /// <summary>Follows half a cosine from the initial rate to 0 over the run (<c>lr·(1 + cos(π·f))/2</c> at fraction f of the run).</summary>
    Cosine,
}
