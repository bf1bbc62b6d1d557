namespace DiffusionKit.Scheduling;

/// <summary>How n inference timesteps are picked among the training timesteps (diffusers' <c>timestep_spacing</c>, Lin et al. 2023, table 2).</summary>
/// <remarks>
/// In diffusers' convention each scheduler uses diffusers' own formula for its algorithm. In the course's convention
/// (timesteps 1..T) <see cref="Trailing"/> is the course's <c>T - floor(i·T/n)</c>, and <see cref="Linspace"/> and
/// <see cref="Leading"/> are diffusers' DDIM formulas shifted by one.
/// </remarks>
public enum TimestepSpacing
{
    /// <summary><c>trailing</c>: start at the last training timestep and step back by T/n (the course's DDIM; the library default).</summary>
    Trailing = 0,

    /// <summary><c>leading</c>: multiples of T // n counted up from the first timestep, plus <see cref="SchedulerOptions.StepsOffset"/> (diffusers' DDIM default).</summary>
    Leading = 1,

    /// <summary><c>linspace</c>: evenly spaced over the whole range including both ends (diffusers' DPM-Solver and Euler default).</summary>
    Linspace = 2,
}
