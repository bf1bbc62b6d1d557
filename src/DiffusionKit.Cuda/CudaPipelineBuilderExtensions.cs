using DiffusionKit.Pipeline;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Cuda;

/// <summary>Runs a DiffusionKit pipeline on an NVIDIA GPU.</summary>
public static class CudaPipelineBuilderExtensions
{
    /// <summary>
    /// Runs the pipeline on <c>cuda:N</c>. Needs a TorchSharp CUDA backend in the application: add the package
    /// <c>TorchSharp-cuda-linux</c> (Linux) or <c>TorchSharp-cuda-windows</c> (Windows), version 0.107.0, in place
    /// of <c>TorchSharp-cpu</c>.
    /// </summary>
    /// <param name="builder">The builder; set its logger factory first to receive the fallback warning.</param>
    /// <param name="configure">Adjusts <see cref="CudaOptions"/>; null keeps the defaults (device 0, no fallback).</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">When no CUDA backend or GPU is available and <see cref="CudaOptions.AllowCpuFallback"/> is false; the message names the package to add.</exception>
    /// <exception cref="ArgumentOutOfRangeException">When <see cref="CudaOptions.DeviceIndex"/> is negative or not below the number of GPUs.</exception>
    public static DiffusionPipelineBuilder UseCuda(this DiffusionPipelineBuilder builder, Action<CudaOptions>? configure = null) =>
        UseCudaWith(builder, configure, CudaBackend.TorchSharp);

    /// <summary>The testable core of <see cref="UseCuda(DiffusionPipelineBuilder, Action{CudaOptions}?)"/>.</summary>
    internal static DiffusionPipelineBuilder UseCudaWith(DiffusionPipelineBuilder builder, Action<CudaOptions>? configure, CudaBackend backend)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new CudaOptions();
        configure?.Invoke(options);
        if (options.DeviceIndex < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(CudaOptions.DeviceIndex), options.DeviceIndex, "CudaOptions.DeviceIndex must be at least 0 (0 is the first GPU).");
        }

        if (!backend.IsAvailable())
        {
            string package = CudaBackend.PackageForThisPlatform;
            if (!options.AllowCpuFallback)
            {
                throw new InvalidOperationException(
                    $"UseCuda: CUDA is not available (torch.cuda.is_available() is false): the application has no TorchSharp CUDA backend, or no GPU and driver are visible. " +
                    $"Add the package {package} (on {(package.EndsWith("windows", StringComparison.Ordinal) ? "Windows" : "Linux")}; {CudaBackend.PackageForOtherPlatform} on the other OS) to the application, " +
                    $"e.g. 'dotnet add package {package} --version 0.107.0', and remove TorchSharp-cpu; or call UseCuda(o => o.AllowCpuFallback = true) to run on the CPU.");
            }

            builder.LoggerFactory.CreateLogger(typeof(CudaPipelineBuilderExtensions).FullName!).LogWarning(
                "UseCuda: CUDA is not available (no TorchSharp CUDA backend or GPU); falling back to the CPU as CudaOptions.AllowCpuFallback allows. Add the package {Package} to run on the GPU.",
                package);
            return builder.UseDevice(CPU);
        }

        int count = backend.DeviceCount();
        if (options.DeviceIndex >= count)
        {
            throw new ArgumentOutOfRangeException(nameof(CudaOptions.DeviceIndex), options.DeviceIndex, $"CudaOptions.DeviceIndex must lie in 0..{count - 1}: {count} GPU(s) are visible.");
        }

        return builder.UseDevice(new Device(DeviceType.CUDA, options.DeviceIndex));
    }
}
