namespace DiffusionKit.Cuda;

/// <summary>Settings of <see cref="CudaPipelineBuilderExtensions.UseCuda"/>.</summary>
public sealed class CudaOptions
{
    /// <summary>The CUDA device ordinal to run on (<c>cuda:N</c>). Default 0. Must be at least 0 and below the number of visible GPUs.</summary>
    public int DeviceIndex { get; set; }

    /// <summary>
    /// When true and no CUDA backend or GPU is available, run on the CPU and log a warning instead of throwing.
    /// Default false: a missing backend is an error, so a misconfigured deployment does not silently run 50x slower.
    /// </summary>
    public bool AllowCpuFallback { get; set; }
}
