namespace DiffusionKit.Scheduling;

/// <summary>The variance of the noise DDPM adds at each reverse step (diffusers' <c>variance_type</c>).</summary>
public enum VarianceType
{
    /// <summary><c>fixed_large</c>: beta_t, the course's <c>sqrt(beta_t)·z</c> (the library default, Ho et al.'s sigma^2 = beta).</summary>
    FixedLarge = 0,

    /// <summary><c>fixed_small</c>: the posterior variance <c>(1 - ab_prev)/(1 - ab_t)·beta_t</c> (diffusers' default).</summary>
    FixedSmall = 1,
}
