using System.Runtime.CompilerServices;
using DiffusionKit.Native;

namespace DiffusionKit.Tests;

/// <summary>Tests call TorchSharp directly, so make the native library loadable before any test runs.</summary>
internal static class TestAssemblyInitializer
{
    [ModuleInitializer]
    internal static void Initialize()
    {
        TorchSharpNativeCompatibility.EnsureLoadable();

        // Precision.Auto measures afresh in tests (and in the CLI processes they start) instead of reading or writing the
        // user's remembered decisions; PrecisionDecisionCacheTests point it at folders of their own.
        if (Environment.GetEnvironmentVariable(DiffusionKit.Training.PrecisionDecisionCache.FolderVariable) is null)
        {
            Environment.SetEnvironmentVariable(DiffusionKit.Training.PrecisionDecisionCache.FolderVariable, "off");
        }

        DecideKernelRoutes();
    }

    /// <summary>
    /// Runs the kernel check once for a small context U-Net in both precisions, so the route in force is right for this
    /// CPU before any test network (the test doubles route their convolutions too) runs. Tests that change the route
    /// call this again when they end.
    /// </summary>
    internal static void DecideKernelRoutes()
    {
        using var network = new DiffusionKit.Models.ContextUnet(new DiffusionKit.Models.ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = 4 }, seed: 1);
        KernelCheck.Ensure(network, TorchSharp.torch.ScalarType.Float32, backward: true);
        KernelCheck.Ensure(network, TorchSharp.torch.ScalarType.BFloat16, backward: true);
    }
}
