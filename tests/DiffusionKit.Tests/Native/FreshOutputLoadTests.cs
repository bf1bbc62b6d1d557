using System.Diagnostics;
using DiffusionKit.Native;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

/// <summary>
/// Builds a consumer app from scratch and runs it: DiffusionKit's build step must make TorchSharp load with no manual
/// step and no file written at run time; an unpatched copy must fail with DiffusionKit's message naming the remedies.
/// </summary>
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
    /// Copies the consumer project <c>tests/&lt;project&gt;</c> into <paramref name="work"/>/src and builds it (or, with
    /// <paramref name="publish"/>, publishes it for linux-x64) against this checkout's DiffusionKit into
    /// <paramref name="work"/>/out, as an app developer's fresh build would be, with DiffusionKit's build step
    /// (src/DiffusionKit/Native/DiffusionKit.targets, what the package gives its consumers) and the repository's hard links
    /// to the NuGet cache; returns the output folder.
    /// </summary>
    internal static string BuildConsumer(string project, string work, bool publish = false)
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
        string dkTargets = Path.Combine(root, "src", "DiffusionKit", "Native", "DiffusionKit.targets");
        string verb = publish ? "publish -r linux-x64 --self-contained false" : "build";
        var build = Run("dotnet", $"{verb} \"{Path.Combine(source, project + ".csproj")}\" -c Release -o \"{output}\" -p:DiffusionKitProject=\"{dkProject}\" " +
            $"-p:DiffusionKitTargets=\"{dkTargets}\" -p:CreateHardLinksForCopyLocalIfPossible=true -p:CreateHardLinksForPublishFilesIfPossible=true -nologo -v:q", source);
        build.Exit.Should().Be(0, build.Output);
        return output;
    }

    /// <summary>Whether this process's libstdc++ lacks GLIBCXX_3.4.32 (Debian 12, Ubuntu 22.04), so TorchSharp 0.107 needs the fix.</summary>
    internal static bool OldLibStdCxx()
    {
        string? libStdCxx = TorchSharpNativeCompatibility.FindSystemLibStdCxx();
        return libStdCxx is null || !TorchSharpNativeCompatibility.ReadProvidedVersions(libStdCxx).Contains("GLIBCXX_3.4.32");
    }

    /// <summary>Whether <paramref name="library"/>'s GLIBCXX_3.4.32 requirement is weak.</summary>
    internal static bool IsWeakened(string library)
        => ElfVersionNeeds.Read(File.ReadAllBytes(library)).Single(n => n.Version == "GLIBCXX_3.4.32").Weak;

    [Fact]
    public void A_freshly_built_consumer_app_loads_TorchSharp_and_computes()
    {
        using var temp = new TempDirectory();
        string output = BuildConsumer("NativeLoadConsumer", temp.Path);

        string native = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Exists(native).Should().BeTrue("the fresh output must carry TorchSharp's native library");
        IsWeakened(native).Should().BeTrue("DiffusionKit's build step marks the requirement weak in the output's copy");
        IsWeakened(ElfVersionNeedsTests.PristineLibrary()).Should().BeFalse("the build step must never write into the NuGet cache (the output's copy was a hard link to it)");
        byte[] built = File.ReadAllBytes(native);

        string app = Path.Combine(output, "NativeLoadConsumer.dll");
        bool oldLibStdCxx = OldLibStdCxx();
        var first = Run("dotnet", $"\"{app}\"", output);
        first.Exit.Should().Be(0, first.Output);
        first.Output.Should().Contain(oldLibStdCxx ? "outcome=AlreadyPatched sum=10" : "outcome=NotNeeded sum=10");
        File.ReadAllBytes(native).Should().Equal(built, "nothing is written at run time");
    }

    [Fact]
    public void An_unpatched_copy_fails_with_the_remedies_and_copy_mode_loads_it_without_touching_the_app_folder()
    {
        if (!OldLibStdCxx())
        {
            return; // This system's libstdc++ loads the unpatched library: nothing to explain.
        }

        using var temp = new TempDirectory();
        string output = BuildConsumer("NativeLoadConsumer", Path.Combine(temp.Path, "app"));

        // The app's copy as it would be without the build step (native files copied by hand after the build).
        string native = Path.Combine(output, "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
        File.Delete(native);
        File.Copy(ElfVersionNeedsTests.PristineLibrary(), native);
        byte[] pristine = File.ReadAllBytes(native);
        string app = Path.Combine(output, "NativeLoadConsumer.dll");
        string data = Directory.CreateDirectory(Path.Combine(temp.Path, "data")).FullName;
        var dataHome = new Dictionary<string, string> { ["XDG_DATA_HOME"] = data };

        var plain = Run("dotnet", $"\"{app}\"", output, dataHome);
        plain.Exit.Should().NotBe(0, "the unpatched library cannot load here");
        plain.Output.Should().Contain("TorchSharpNativeLoadException").And.Contain("GLIBCXX_3.4.32")
            .And.Contain("rebuild or republish the app with the DiffusionKit package")
            .And.Contain("DIFFUSIONKIT_NATIVE_FIX=copy").And.Contain("GCC 13").And.NotContain("sum=10");
        File.ReadAllBytes(native).Should().Equal(pristine, "the run-time check writes nothing");
        Directory.EnumerateFileSystemEntries(data).Should().BeEmpty("only copy mode writes a copy");

        var off = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string>(dataHome) { ["DIFFUSIONKIT_NATIVE_FIX"] = "off" });
        off.Exit.Should().NotBe(0, "with the check turned off TorchSharp cannot load here");
        off.Output.Should().Contain("outcome=Disabled").And.NotContain("sum=10");

        var copy = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string>(dataHome) { ["DIFFUSIONKIT_NATIVE_FIX"] = "copy" });
        copy.Exit.Should().Be(0, copy.Output);
        copy.Output.Should().Contain("outcome=PatchedCopy sum=10");
        File.ReadAllBytes(native).Should().Equal(pristine, "copy mode leaves the app folder untouched");
        Directory.EnumerateFiles(Path.Combine(data, "DiffusionKit", "native"), "libLibTorchSharp.so", SearchOption.AllDirectories)
            .Should().ContainSingle("copy mode writes its patched copy under XDG_DATA_HOME");
    }
}
