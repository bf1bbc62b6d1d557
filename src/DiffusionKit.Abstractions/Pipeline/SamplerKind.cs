namespace DiffusionKit;

/// <summary>The reverse-diffusion algorithm a pipeline samples with.</summary>
public enum SamplerKind
{
    /// <summary>DDPM ancestral sampling (Ho et al. 2020): walks every training timestep and adds fresh noise at each step.</summary>
    Ddpm = 0,

    /// <summary>Deterministic DDIM (Song et al. 2021, eta = 0) over evenly spaced timesteps: few steps, no fresh noise.</summary>
    Ddim = 1,

    /// <summary>DPM-Solver++ 2M (Lu et al. 2022), multistep with lower-order final steps: about 20 steps for guided sampling.</summary>
    DpmSolverMultistep = 2,

    /// <summary>Euler ancestral (Karras et al. 2022 / k-diffusion): stochastic, few steps.</summary>
    EulerAncestral = 3,

    /// <summary>SDE-DPM-Solver++ 2M (diffusers' <c>sde-dpmsolver++</c>): DPM-Solver++ 2M with fresh noise at each step; about 20 steps.</summary>
    DpmSolverMultistepSde = 4,
}
