namespace DiffusionKit.Scheduling;

/// <summary>Where DPM-Solver++'s last step lands (diffusers' <c>final_sigmas_type</c>).</summary>
public enum FinalSigmas
{
    /// <summary><c>zero</c>: on sigma = 0, the clean sample; the last step is then always first order (diffusers' default).</summary>
    Zero = 0,

    /// <summary><c>sigma_min</c>: on the sigma of the first training timestep (diffusers' original behaviour); the last
    /// step is first order only with <see cref="SchedulerOptions.LowerOrderFinal"/> and fewer than 15 steps.</summary>
    SigmaMin = 1,
}
