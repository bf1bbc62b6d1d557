using System.Reflection;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Architecture;

/// <summary>
/// The engine package (DiffusionKit) and the other libraries do not depend on the demo's tooling (DiffusionKit.Demo:
/// the shapes data set and its judge, the course's .npy sprites, GIF and PNG decoding, image grids and their font), and
/// none of it is back in them.
/// </summary>
public sealed class SlimCoreTests
{
    private const string DemoAssembly = "DiffusionKit.Demo";

    private static readonly Assembly Engine = typeof(DiffusionPipelineBuilder).Assembly;
    private static readonly Assembly Demo = typeof(ShapesCatalog).Assembly;

    /// <summary>The library packages besides the demo's (the test project references each, so each loads).</summary>
    public static TheoryData<string> Libraries() => new()
    {
        "DiffusionKit.Abstractions",
        "DiffusionKit",
        "DiffusionKit.Cuda",
        "DiffusionKit.TextEncoders.MiniLM",
        "DiffusionKit.Extensions.AI",
    };

    [Theory]
    [MemberData(nameof(Libraries))]
    public void No_library_references_the_demo_assembly(string library)
    {
        Assembly assembly = Assembly.Load(library);

        assembly.GetReferencedAssemblies().Select(a => a.Name).Should().NotContain(DemoAssembly);
    }

    [Fact]
    public void The_engine_holds_no_type_of_the_demo_namespaces()
    {
        Engine.GetName().Name.Should().Be("DiffusionKit");
        var namespaces = Engine.GetTypes().Select(t => t.Namespace ?? string.Empty).Distinct().ToList();

        namespaces.Should().NotContain(n => n.StartsWith("DiffusionKit.Demo", StringComparison.Ordinal));
        namespaces.Should().NotContain("DiffusionKit.Evaluation", "the judge and its reports are demo tooling");
    }

    [Fact]
    public void No_demo_type_has_a_namesake_in_the_engine()
    {
        var engineNames = Engine.GetTypes().Where(t => !t.IsNested).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var demoTypes = Demo.GetTypes().Where(t => !t.IsNested && t.Namespace?.StartsWith("DiffusionKit.Demo.", StringComparison.Ordinal) == true).ToList();

        demoTypes.Should().NotBeEmpty();
        demoTypes.Select(t => t.Name).Should().NotIntersectWith(engineNames, "a type moved to DiffusionKit.Demo must not be left (or copied) in the engine");
    }

    [Theory]
    [InlineData("ImageGrid")]
    [InlineData("ImageGridOptions")]
    [InlineData("LabelPlacement")]
    [InlineData("BitmapFont")]
    [InlineData("TrainingSampleGrid")]
    [InlineData("GifAnimation")]
    [InlineData("PngDecoder")]
    public void The_demo_imaging_types_live_in_the_demo_package_only(string name)
    {
        Demo.GetTypes().Should().Contain(t => t.Name == name && t.Namespace == "DiffusionKit.Demo.Imaging");
        Engine.GetTypes().Select(t => t.Name).Should().NotContain(name);
    }

    [Fact]
    public void The_engine_holds_no_gif_type()
    {
        Engine.GetTypes().Select(t => t.Name).Should().NotContain(n => n.StartsWith("Gif", StringComparison.Ordinal), "GIF writing is demo tooling");
    }

    [Fact]
    public void The_demo_assembly_builds_on_the_engine()
    {
        Demo.GetName().Name.Should().Be(DemoAssembly);
        Demo.GetReferencedAssemblies().Select(a => a.Name).Should().Contain("DiffusionKit");
    }
}
