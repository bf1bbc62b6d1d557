using System.Reflection;
using System.Runtime.CompilerServices;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Architecture;

/// <summary>
/// The packages are versioned separately, so none binds to another's internals (an upgrade of one would break the
/// other at run time): InternalsVisibleTo names test projects only.
/// </summary>
public sealed class InternalsVisibilityTests
{
    /// <summary>Every shipped assembly the test project loads: the library packages and the CLI.</summary>
    public static TheoryData<string> Shipped() => new()
    {
        "DiffusionKit.Pipeline.Abstractions",
        "DiffusionKit.Abstractions",
        "DiffusionKit",
        "DiffusionKit.Cuda",
        "DiffusionKit.TextEncoders.MiniLM",
        "DiffusionKit.Extensions.AI",
        "DiffusionKit.Demo",
        "DiffusionKit.Cli",
    };

    [Theory]
    [MemberData(nameof(Shipped))]
    public void Internals_are_visible_to_test_projects_only(string assemblyName)
    {
        Assembly assembly = Assembly.Load(assemblyName);

        var friends = assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).ToList();

        friends.Should().NotContain(
            name => !name.EndsWith(".Tests", StringComparison.Ordinal),
            $"{assemblyName} must not open its internals to another package or app; make the member public API of its package or move it to its only consumer");
    }

    [Fact]
    public void The_engine_still_opens_its_internals_to_its_tests()
    {
        typeof(DiffusionKit.Pipeline.DiffusionPipelineBuilder).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>()
            .Select(a => a.AssemblyName).Should().Equal("DiffusionKit.Tests");
    }
}
