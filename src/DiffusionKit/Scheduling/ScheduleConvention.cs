namespace DiffusionKit.Scheduling;

/// <summary>How training timesteps are indexed and where the schedule starts.</summary>
public enum ScheduleConvention
{
    /// <summary>
    /// The course's (the default): T + 1 betas over <c>t = 0..T</c>, <c>ab_t = prod_{k=0..t}(1 - beta_k)</c> except
    /// <c>ab_0 = 1</c>, training timesteps <c>1..T</c>, the model sees <c>t/T</c>.
    /// </summary>
    Course = 0,

    /// <summary>
    /// diffusers': T betas over <c>t = 0..T-1</c>, <c>alphas_cumprod[t] = prod_{s&lt;=t}(1 - beta_s)</c>, training
    /// timesteps <c>0..T-1</c>; the step past timestep 0 lands on <c>ab = 1</c> (or <c>alphas_cumprod[0]</c> for DDIM
    /// without <see cref="SchedulerOptions.SetAlphaToOne"/>).
    /// </summary>
    Diffusers = 1,
}
