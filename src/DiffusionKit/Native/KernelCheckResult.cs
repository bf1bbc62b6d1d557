using static TorchSharp.torch;

namespace DiffusionKit.Native;

/// <summary>The outcome of one kernel check.</summary>
/// <param name="DType">The dtype checked.</param>
/// <param name="Route">The route in force after the check.</param>
/// <param name="Passed">Whether <paramref name="Route"/> agreed with the float64 reference.</param>
/// <param name="Error">The largest relative error of the first route tried (NaN when not finite).</param>
/// <param name="Warning">The one-line warning to log, or null when the native kernels passed.</param>
internal sealed record KernelCheckResult(ScalarType DType, KernelRoute Route, bool Passed, double Error, string? Warning);
