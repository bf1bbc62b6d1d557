using DiffusionKit.Native;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

/// <summary>An app without a TorchSharp backend gets DiffusionKit's message naming the packages, not a native-load abort.</summary>
public sealed class MissingBackendTests
{
    [Fact]
    public void Backend_detection_looks_in_the_given_folders_and_the_system_path()
    {
        using var temp = new TempDirectory();
        string folder = temp.Path;
        const string library = "libdiffusionkit_no_such_backend.so";

        TorchSharpBackend.IsPresent([folder], library).Should().BeFalse();
        File.WriteAllBytes(Path.Combine(folder, library), []);
        TorchSharpBackend.IsPresent([folder], library).Should().BeTrue();

        TorchSharpBackend.MissingMessage(library).Should().Contain("TorchSharp-cpu").And.Contain("DiffusionKit.Cuda").And.Contain("TorchSharp-cuda-linux").And.Contain(library);
    }

    [Fact]
    public void A_consumer_app_without_a_backend_fails_with_DiffusionKits_message_on_its_first_call()
    {
        using var temp = new TempDirectory();
        string output = FreshOutputLoadTests.BuildConsumer("NoBackendConsumer", temp.Path);
        File.Exists(Path.Combine(output, "runtimes", "linux-x64", "native", TorchSharpBackend.LibraryFileName)).Should().BeFalse("the app has no backend package");

        var run = FreshOutputLoadTests.Run("dotnet", $"\"{Path.Combine(output, "NoBackendConsumer.dll")}\"", output);

        run.Exit.Should().Be(3, "both first calls throw TorchSharpNativeLoadException, which the app catches:\n" + run.Output);
        run.Output.Should().Contain("model: DiffusionKit found no TorchSharp backend").And.Contain("pipeline: DiffusionKit found no TorchSharp backend");
        run.Output.Should().Contain("dotnet add package TorchSharp-cpu").And.Contain("DiffusionKit.Cuda");
    }
}
