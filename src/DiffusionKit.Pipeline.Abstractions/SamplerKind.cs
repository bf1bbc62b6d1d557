namespace DiffusionKit;

/// <summary>
/// The reverse-diffusion algorithm a pipeline or scheduler samples with. All of them share the training schedule, so a
/// trained model can switch freely. <c>DiffusionKit.Scheduling.SchedulerNames</c> maps each value to diffusers' class
/// name and the CLI's short name.
/// </summary>
public enum SamplerKind
{
    /// <summary>DDPM ancestral sampling (Ho et al. 2020) over every training timestep, with fresh noise at each step (diffusers' <c>DDPMScheduler</c>; CLI <c>ddpm</c>).</summary>
    Ddpm = 0,

    /// <summary>DDIM (Song et al. 2021; deterministic with eta = 0) over evenly spaced timesteps: the course's fast sampler (diffusers' <c>DDIMScheduler</c>; CLI <c>ddim</c>).</summary>
    Ddim = 1,

    /// <summary>DPM-Solver++ 2M (Lu et al. 2022), multistep, deterministic, lower-order final steps: about 20 steps for guided sampling (diffusers' <c>DPMSolverMultistepScheduler</c>; CLI <c>dpm-solver</c>).</summary>
    DpmSolverMultistep = 2,

    /// <summary>Euler ancestral in sigma space (Karras et al. 2022 / k-diffusion): stochastic, few steps (diffusers' <c>EulerAncestralDiscreteScheduler</c>; CLI <c>euler-a</c>).</summary>
    EulerAncestral = 3,

    /// <summary>
    /// SDE-DPM-Solver++ 2M (Lu et al. 2022, the stochastic variant; diffusers' <c>DPMSolverMultistepScheduler</c> with
    /// <c>algorithm_type = "sde-dpmsolver++"</c>; CLI <c>dpm-solver-sde</c>): the same multistep update with fresh noise at
    /// every step but the last. Few steps like DPM-Solver++, and like DDPM it corrects the model's errors as it goes.
    /// </summary>
    DpmSolverMultistepSde = 4,
}
