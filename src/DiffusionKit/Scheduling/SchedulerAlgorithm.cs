namespace DiffusionKit.Scheduling;

/// <summary>The reverse-diffusion algorithm a scheduler runs; all of them share the training schedule, so a trained model can switch freely.</summary>
public enum SchedulerAlgorithm
{
    /// <summary>DDPM ancestral sampling over every training timestep (diffusers' <c>DDPMScheduler</c>).</summary>
    Ddpm = 0,

    /// <summary>DDIM with <see cref="SchedulerOptions.Eta"/> (diffusers' <c>DDIMScheduler</c>); the course's fast sampler.</summary>
    Ddim = 1,

    /// <summary>DPM-Solver++ 2M, multistep, deterministic (diffusers' <c>DPMSolverMultistepScheduler</c>).</summary>
    DpmSolverMultistep = 2,

    /// <summary>Euler ancestral in sigma space (diffusers' <c>EulerAncestralDiscreteScheduler</c>).</summary>
    EulerAncestral = 3,

    /// <summary>
    /// SDE-DPM-Solver++ 2M (Lu et al. 2022, the stochastic variant; diffusers' <c>DPMSolverMultistepScheduler</c> with
    /// <c>algorithm_type = "sde-dpmsolver++"</c>): the same multistep update with fresh noise at every step but the last.
    /// Few steps like DPM-Solver++, and like DDPM it corrects the model's errors as it goes.
    /// </summary>
    DpmSolverMultistepSde = 4,
}
