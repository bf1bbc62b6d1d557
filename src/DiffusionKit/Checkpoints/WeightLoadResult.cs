namespace DiffusionKit.Checkpoints;

/// <summary>What <see cref="ModuleWeights.Load"/> did: the names it copied and those it skipped.</summary>
/// <param name="Loaded">Names copied into the module.</param>
/// <param name="Missing">Module names the weights lacked (left unchanged); always empty after a strict load.</param>
/// <param name="Unexpected">Weight names the module does not have (ignored); always empty after a strict load.</param>
public sealed record WeightLoadResult(IReadOnlyList<string> Loaded, IReadOnlyList<string> Missing, IReadOnlyList<string> Unexpected);
