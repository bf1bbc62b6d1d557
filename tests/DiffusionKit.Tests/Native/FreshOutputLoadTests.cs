using System.Diagnostics;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

/// <summary>Builds a consumer app from scratch and runs it: DiffusionKit must make TorchSharp load with no manual step.</summary>
public sealed class FreshOutputLoadTests
{
    internal static string RepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DiffusionKit.sln")))
        {
            dir = dir.Parent;
        }

        return dir?.FullName ?? throw new InvalidOperationException("Repository root not found.");
    }

    internal static (int Exit, string Output) Run(string file, string args, string workingDirectory, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        info.Environment.Remove("DIFFUSIONKIT_NATIVE_FIX");
        foreach (var pair in env ?? new Dictionary<string, string>())
        {
            info.Environment[pair.Key] = pair.Value;
        }

        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout + stderr.Result);
    }

    /// <summary>
    /// Copies the consumer project <c>tests/&lt;project&gt;</c> into <paramref name="work"/>/src and builds it against this
    /// checkout's DiffusionKit into <paramref name="work"/>/out, as an app developer's fresh build would be; returns the
    /// output folder.
    /// </summary>
    internal static string BuildConsumer(string project, string work)
    {
        string root = RepoRoot();
        string source = Path.Combine(work, "src");
        string output = Path.Combine(work, "out");
        Directory.CreateDirectory(source);
        foreach (string file in new[] { project + ".csproj", "Program.cs" })
        {
            File.Copy(Path.Combine(root, "tests", project, file), Path.Combine(source, file));
        }

        string dkProject = Path.Combine(root, "src", "DiffusionKit", "DiffusionKit.csproj");
        var build = Run("dotnet", $"build \"{Path.Combine(source, project + ".csproj")}\" -c Release -o \"{output}\" -p:DiffusionKitProject=\"{dkProject}\" -nologo -v:q", source);
        build.Exit.Should().Be(0, build.Output);
        return output;
    }

    [Fact]
    public void A_freshly_built_consumer_app_loads_TorchSharp_and_computes()
    {
        using var temp = new TempDirectory();
        string output = BuildConsumer("NativeLoadConsumer", temp.Path);

        string native = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Exists(native).Should().BeTrue("the fresh output must carry TorchSharp's native library");

        string app = Path.Combine(output, "NativeLoadConsumer.dll");
        string? libStdCxx = DiffusionKit.Native.TorchSharpNativeCompatibility.FindSystemLibStdCxx();
        bool oldLibStdCxx = libStdCxx is null
            || !DiffusionKit.Native.TorchSharpNativeCompatibility.ReadProvidedVersions(libStdCxx).Contains("GLIBCXX_3.4.32");
        byte[] pristine = File.ReadAllBytes(native);

        if (oldLibStdCxx)
        {
            var off = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string> { ["DIFFUSIONKIT_NATIVE_FIX"] = "off" });
            off.Exit.Should().NotBe(0, "with the fix turned off TorchSharp cannot load here");
            off.Output.Should().Contain("outcome=Disabled").And.NotContain("sum=10");
            File.ReadAllBytes(native).Should().Equal(pristine, "a disabled fix changes nothing");

            var copy = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string> { ["DIFFUSIONKIT_NATIVE_FIX"] = "copy" });
            copy.Exit.Should().Be(0, copy.Output);
            copy.Output.Should().Contain("outcome=PatchedCopy sum=10");
            File.ReadAllBytes(native).Should().Equal(pristine, "copy mode leaves the app folder untouched");
        }

        var first = Run("dotnet", $"\"{app}\"", output);
        first.Exit.Should().Be(0, first.Output);
        first.Output.Should().Contain(oldLibStdCxx ? "outcome=PatchedInPlace sum=10" : "outcome=NotNeeded sum=10");

        var second = Run("dotnet", $"\"{app}\"", output);
        second.Exit.Should().Be(0, second.Output);
        second.Output.Should().Contain(oldLibStdCxx ? "outcome=AlreadyPatched sum=10" : "outcome=NotNeeded sum=10");
    }
}
