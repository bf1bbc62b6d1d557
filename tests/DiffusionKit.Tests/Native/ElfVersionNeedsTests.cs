using DiffusionKit.Native;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

public sealed class ElfVersionNeedsTests : IDisposable
{
    private readonly TempDirectory _temp = new();

    /// <summary>Deletes the copies the tests made.</summary>
    public void Dispose() => _temp.Dispose();

    internal static string PristineLibrary()
    {
        string packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        return Path.Combine(packages, "torchsharp", "0.107.0", "runtimes", "linux-x64", "native", "libLibTorchSharp.so");
    }

    [Fact]
    public void Reads_the_strong_GLIBCXX_3_4_32_requirement_of_the_shipped_library()
    {
        var needs = ElfVersionNeeds.Read(File.ReadAllBytes(PristineLibrary()));

        needs.Should().Contain(n => n.File == "libstdc++.so.6" && n.Version == "GLIBCXX_3.4.32" && !n.Weak);
        needs.Should().Contain(n => n.File == "libc.so.6" && n.Version == "GLIBC_2.2.5");
    }

    [Fact]
    public void MarkWeak_flips_only_the_chosen_entry()
    {
        byte[] image = File.ReadAllBytes(PristineLibrary());
        var before = ElfVersionNeeds.Read(image);
        var target = before.Single(n => n.Version == "GLIBCXX_3.4.32");

        ElfVersionNeeds.MarkWeak(image, target);

        var after = ElfVersionNeeds.Read(image);
        after.Single(n => n.Version == "GLIBCXX_3.4.32").Weak.Should().BeTrue();
        after.Where(n => n.Version != "GLIBCXX_3.4.32").Should().OnlyContain(n => !n.Weak);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(16)]
    [InlineData(100)]
    public void Truncated_images_are_rejected_with_InvalidDataException(int length)
    {
        byte[] image = File.ReadAllBytes(PristineLibrary()).AsSpan(0, length).ToArray();

        var act = () => ElfVersionNeeds.Read(image);

        act.Should().Throw<InvalidDataException>();
    }

    /// <summary>Copies the shipped library into a temp folder beside a fake libstdc++ whose string table holds <paramref name="versions"/>.</summary>
    private (string Library, string LibStdCxx) Setup(string versions)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_temp.Path, Guid.NewGuid().ToString("N"))).FullName;
        string lib = Path.Combine(dir, "libLibTorchSharp.so");
        File.Copy(PristineLibrary(), lib);
        string fake = Path.Combine(dir, "libstdc++.so.6");
        File.WriteAllBytes(fake, System.Text.Encoding.ASCII.GetBytes(versions));
        return (lib, fake);
    }

    private const string Gcc12Versions = "\0GLIBCXX_3.4\0GLIBCXX_3.4.30\0CXXABI_1.3\0CXXABI_1.3.13\0GLIBCXX_3.4.29\0GLIBCXX_3.4.26\0GLIBCXX_3.4.22\0GLIBCXX_3.4.21\0GLIBCXX_3.4.20\0GLIBCXX_3.4.19\0GLIBCXX_3.4.18\0GLIBCXX_3.4.15\0GLIBCXX_3.4.14\0GLIBCXX_3.4.11\0GLIBCXX_3.4.9\0CXXABI_1.3.9\0CXXABI_1.3.5\0CXXABI_1.3.3\0CXXABI_1.3.1\0";

    [Fact]
    public void WeakenSafeRequirements_marks_only_GLIBCXX_3_4_32_weak_and_is_idempotent()
    {
        byte[] original = File.ReadAllBytes(PristineLibrary());
        byte[] image = (byte[])original.Clone();

        ElfVersionNeeds.WeakenSafeRequirements(image).Select(n => n.Version).Should().Equal("GLIBCXX_3.4.32");
        ElfVersionNeeds.WeakenSafeRequirements(image).Should().BeEmpty("an already patched image needs no change");

        var after = ElfVersionNeeds.Read(image);
        after.Single(n => n.Version == "GLIBCXX_3.4.32").Weak.Should().BeTrue();
        after.Where(n => n.Version != "GLIBCXX_3.4.32").Should().OnlyContain(n => !n.Weak);
        Enumerable.Range(0, original.Length).Count(i => original[i] != image[i]).Should().Be(1, "only one vna_flags byte changes");
    }

    [Fact]
    public void Check_reports_not_needed_when_libstdcxx_provides_the_version()
    {
        var (lib, fakeLibStdCxx) = Setup(Gcc12Versions + "GLIBCXX_3.4.32\0");
        byte[] before = File.ReadAllBytes(lib);

        TorchSharpNativeCompatibility.Check(lib, fakeLibStdCxx, loadPatchedCopy: false).Should().Be(NativeFixOutcome.NotNeeded);

        File.ReadAllBytes(lib).Should().Equal(before, "a system with a new enough libstdc++ must be left untouched");
    }

    [Fact]
    public void Check_explains_the_remedies_for_an_unpatched_library_on_an_old_libstdcxx_and_writes_nothing()
    {
        var (lib, fakeLibStdCxx) = Setup(Gcc12Versions);
        string folder = Path.GetDirectoryName(lib)!;
        var listing = Directory.GetFiles(folder).Order(StringComparer.Ordinal).ToList();
        byte[] before = File.ReadAllBytes(lib);

        var act = () => TorchSharpNativeCompatibility.Check(lib, fakeLibStdCxx, loadPatchedCopy: false);

        act.Should().Throw<TorchSharpNativeLoadException>()
            .WithMessage("*GLIBCXX_3.4.32*rebuild or republish the app with the DiffusionKit package*DIFFUSIONKIT_NATIVE_FIX=copy*GCC 13*");
        File.ReadAllBytes(lib).Should().Equal(before, "the run-time check never writes the library");
        Directory.GetFiles(folder).Order(StringComparer.Ordinal).Should().Equal(listing, "nor anything beside it");
    }

    [Fact]
    public void Check_reports_already_patched_for_a_library_the_build_step_patched()
    {
        var (lib, fakeLibStdCxx) = Setup(Gcc12Versions);
        byte[] image = File.ReadAllBytes(lib);
        ElfVersionNeeds.WeakenSafeRequirements(image);
        File.WriteAllBytes(lib, image);

        TorchSharpNativeCompatibility.Check(lib, fakeLibStdCxx, loadPatchedCopy: false).Should().Be(NativeFixOutcome.AlreadyPatched);

        File.ReadAllBytes(lib).Should().Equal(image);
    }

    [Fact]
    public void Check_refuses_a_missing_version_it_cannot_safely_weaken()
    {
        var (lib, ancient) = Setup("\0GLIBCXX_3.4\0CXXABI_1.3\0");

        var act = () => TorchSharpNativeCompatibility.Check(lib, ancient, loadPatchedCopy: true);

        act.Should().Throw<TorchSharpNativeLoadException>().WithMessage("*GLIBCXX_3.4.30*libstdc++*GCC 13*");
    }
}
