using DiffusionKit.IO;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.IO;

/// <summary>Whole-file writes through a temporary file and a move: the destination is the old or the complete new file.</summary>
public sealed class AtomicFileTests
{
    [Fact]
    public void Writes_a_new_file_and_leaves_nothing_else_in_the_folder()
    {
        using var folder = new TempDirectory();
        string path = folder.File("out.bin");

        AtomicFile.WriteAllBytes(path, [1, 2, 3]);

        File.ReadAllBytes(path).Should().Equal(1, 2, 3);
        Directory.GetFiles(folder.Path).Should().Equal(path);
    }

    [Fact]
    public void Replaces_an_existing_file_with_the_complete_new_content()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("out.bin", new byte[1000]);

        AtomicFile.WriteAllBytes(path, [7]);

        File.ReadAllBytes(path).Should().Equal(7);
        Directory.GetFiles(folder.Path).Should().Equal(path);
    }

    [Fact]
    public void Writes_an_empty_file()
    {
        using var folder = new TempDirectory();
        string path = folder.Write("out.bin", [1, 2]);

        AtomicFile.WriteAllBytes(path, []);

        File.ReadAllBytes(path).Should().BeEmpty();
    }

    [Fact]
    public void A_missing_folder_fails_without_creating_it()
    {
        using var folder = new TempDirectory();
        string path = Path.Combine(folder.Path, "missing", "out.bin");

        var act = () => AtomicFile.WriteAllBytes(path, [1]);

        act.Should().Throw<DirectoryNotFoundException>();
        Directory.Exists(Path.Combine(folder.Path, "missing")).Should().BeFalse();
    }

    [Fact]
    public void A_failed_move_removes_the_temporary_file()
    {
        using var folder = new TempDirectory();
        string path = folder.File("taken");
        Directory.CreateDirectory(path);

        var act = () => AtomicFile.WriteAllBytes(path, [1, 2, 3]);

        act.Should().Throw<IOException>();
        Directory.GetFiles(folder.Path).Should().BeEmpty("the temporary file is deleted when the move fails");
        Directory.Exists(path).Should().BeTrue();
    }

    [Fact]
    public void Arguments_are_checked_by_name()
    {
        using var folder = new TempDirectory();

        ((Action)(() => AtomicFile.WriteAllBytes(null!, [1]))).Should().Throw<ArgumentNullException>().WithParameterName("path");
        ((Action)(() => AtomicFile.WriteAllBytes(string.Empty, [1]))).Should().Throw<ArgumentException>().WithParameterName("path");
        ((Action)(() => AtomicFile.WriteAllBytes(folder.File("out.bin"), null!))).Should().Throw<ArgumentNullException>().WithParameterName("bytes");
        Directory.GetFiles(folder.Path).Should().BeEmpty();
    }
}
