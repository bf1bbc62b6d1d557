namespace DiffusionKit.Hosting;

/// <summary>Parses configuration's sampler names (the <see cref="SamplerKind"/> names, case-insensitive; numbers are refused).</summary>
internal static class SamplerNames
{
    /// <summary>The accepted names, for error messages: "ddpm, ddim".</summary>
    internal static string Allowed => string.Join(", ", Enum.GetNames<SamplerKind>().Select(n => n.ToLowerInvariant()));

    /// <summary>Parses <paramref name="name"/>.</summary>
    internal static bool TryParse(string? name, out SamplerKind kind)
    {
        foreach (var candidate in Enum.GetValues<SamplerKind>())
        {
            if (string.Equals(candidate.ToString(), name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }
}
