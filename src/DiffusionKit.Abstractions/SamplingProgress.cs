using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>One report from a sampling loop.</summary>
/// <param name="Step">1-based index of the step just finished.</param>
/// <param name="TotalSteps">Number of steps in the loop.</param>
/// <param name="Timestep">The timestep just denoised.</param>
/// <param name="Intermediate">x_{t_prev} in [0, 1] on the CPU when <see cref="SamplingOptions.CaptureIntermediates"/> is set, else null. Owned by the receiver, who must dispose it.</param>
public sealed record SamplingProgress(int Step, int TotalSteps, int Timestep, Tensor? Intermediate = null);
