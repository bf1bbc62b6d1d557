using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionKit.Cuda;

/// <summary>What the process can see of CUDA; an instance is injectable so both outcomes are testable without a GPU.</summary>
/// <param name="IsAvailable">Whether a TorchSharp CUDA backend is loaded and sees a GPU.</param>
/// <param name="DeviceCount">How many GPUs it sees (only asked when available).</param>
internal sealed record CudaBackend(Func<bool> IsAvailable, Func<int> DeviceCount)
{
    /// <summary>The real backend: <c>torch.cuda.is_available()</c> (false with TorchSharp-cpu) and <c>torch.cuda.device_count()</c>.</summary>
    internal static CudaBackend TorchSharp { get; } = new(torch.cuda.is_available, torch.cuda.device_count);

    /// <summary>The NuGet package that carries the CUDA backend for this operating system.</summary>
    internal static string PackageForThisPlatform =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "TorchSharp-cuda-windows" : "TorchSharp-cuda-linux";

    /// <summary>The package for the other supported operating system.</summary>
    internal static string PackageForOtherPlatform =>
        RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "TorchSharp-cuda-linux" : "TorchSharp-cuda-windows";
}
