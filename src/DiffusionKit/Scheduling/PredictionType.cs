namespace DiffusionKit.Scheduling;

/// <summary>What the denoiser is trained to predict (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary><c>epsilon</c>: the added noise (the course, Ho et al. 2020).</summary>
    Epsilon = 0,

    /// <summary><c>v_prediction</c>: <c>v = sqrt(ab_t)·eps - sqrt(1 - ab_t)·x0</c> (Salimans and Ho 2022).</summary>
    VPrediction = 1,

    /// <summary><c>sample</c>: the clean sample x0 directly.</summary>
    Sample = 2,
}
