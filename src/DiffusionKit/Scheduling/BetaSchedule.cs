namespace DiffusionKit.Scheduling;

/// <summary>How the per-timestep variances beta_t are laid out (diffusers' <c>beta_schedule</c>).</summary>
public enum BetaSchedule
{
    /// <summary><c>linear</c>: beta evenly spaced from <see cref="SchedulerOptions.BetaStart"/> to <see cref="SchedulerOptions.BetaEnd"/> (the course).</summary>
    Linear = 0,

    /// <summary><c>scaled_linear</c>: sqrt(beta) evenly spaced, then squared (latent diffusion / Stable Diffusion).</summary>
    ScaledLinear = 1,

    /// <summary><c>squaredcos_cap_v2</c>: the cosine schedule of Nichol and Dhariwal 2021, betas capped at 0.999; ignores BetaStart/BetaEnd.</summary>
    SquaredCosCapV2 = 2,
}
