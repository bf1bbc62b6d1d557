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
}
