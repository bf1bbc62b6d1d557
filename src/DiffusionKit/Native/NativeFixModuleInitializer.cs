using System.Runtime.CompilerServices;

namespace DiffusionKit.Native;

/// <summary>Runs the native-load check as soon as the DiffusionKit assembly is used, before any TorchSharp call it makes.</summary>
internal static class NativeFixModuleInitializer
{
    [ModuleInitializer]
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The native library must be made loadable before TorchSharp's static constructor runs; the check is cheap, idempotent and never throws here.")]
    internal static void Initialize() => TorchSharpNativeCompatibility.TryEnsureLoadable();
}
