using System.Runtime.CompilerServices;
using DiffusionKit.Native;

namespace DiffusionKit.Server.Tests;

/// <summary>The fixtures train with TorchSharp directly, so make the native library loadable before any test runs.</summary>
internal static class TestAssemblyInitializer
{
    [ModuleInitializer]
    internal static void Initialize() => TorchSharpNativeCompatibility.EnsureLoadable();
}
