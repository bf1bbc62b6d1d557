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

        // The default writes nothing anywhere: not in the app folder (which may be read-only: a container image, a signed
        // deployment), not in the user's home. The patched library is loaded from memory.
        string home = Path.Combine(temp.Path, "home");
        Directory.CreateDirectory(home);
        var before = Snapshot(output);
        foreach (int run in new[] { 1, 2 })
        {
            var result = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string> { ["HOME"] = home, ["XDG_DATA_HOME"] = Path.Combine(home, "data") });
            result.Exit.Should().Be(0, result.Output);
            result.Output.Should().Contain(oldLibStdCxx ? "outcome=PatchedInMemory sum=10" : "outcome=NotNeeded sum=10", $"run {run}");
            Snapshot(output).Should().Equal(before, "the default fix writes nothing under the app folder");
            Directory.EnumerateFileSystemEntries(home, "*", SearchOption.AllDirectories).Where(p => !p.Contains(".dotnet", StringComparison.Ordinal) && !p.Contains(".nuget", StringComparison.Ordinal))
                .Should().BeEmpty("nor in the user's home");
        }

        if (oldLibStdCxx)
        {
            // The explicit opt-in that bakes the fix into the folder (for an image build), then finds it done.
            var inPlace = Run("dotnet", $"\"{app}\"", output, new Dictionary<string, string> { ["DIFFUSIONKIT_NATIVE_FIX"] = "in-place" });
            inPlace.Output.Should().Contain("outcome=PatchedInPlace sum=10");
            var again = Run("dotnet", $"\"{app}\"", output);
            again.Output.Should().Contain("outcome=AlreadyPatched sum=10");
        }
    }

    /// <summary>Every file under <paramref name="folder"/> with its length, write time and SHA-256, in path order.</summary>
    private static List<string> Snapshot(string folder) => Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
        .Order(StringComparer.Ordinal)
        .Select(f => $"{Path.GetRelativePath(folder, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f):O} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))}")
        .ToList();
}
