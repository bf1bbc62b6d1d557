using Xunit;

namespace DiffusionKit.Tests.Interop;

/// <summary>The PyTorch trainer's tests run child processes that use every core: alone, so timing-sensitive tests elsewhere are not starved.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PyTorchTrainerCollection
{
    public const string Name = "PyTorch trainer (CPU heavy)";
}
