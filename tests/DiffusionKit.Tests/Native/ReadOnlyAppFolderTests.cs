using System.Security.Cryptography;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

/// <summary>
/// Issue 21's bar: an app published with DiffusionKit runs from a read-only folder on Debian 12 and writes nothing under
/// it. The tests run as root, which permissions do not stop, so "writes nothing" is a before/after snapshot of every entry
/// (path, size, time stamp, mode, content hash); where <c>unshare</c> can, the app also runs under a read-only bind mount
/// of its folder, which stops root too.
/// </summary>
public sealed class ReadOnlyAppFolderTests
{
    [Fact]
    public void A_published_app_runs_from_a_read_only_folder_and_writes_nothing_under_it()
    {
        using var temp = new TempDirectory();
        string published = FreshOutputLoadTests.BuildConsumer("NativeLoadConsumer", temp.Path, publish: true);

        // The publish hard-links package files to the NuGet cache (BuildConsumer saves disk that way), so a chmod of the
        // publish folder would change the cache's files, and any build that touches them (another test's) would change
        // this folder: the app runs from its own copy, files of its own, as a user's deployed app does.
        string output = Path.Combine(temp.Path, "app");
        var copy = FreshOutputLoadTests.Run("cp", $"-r \"{published}\" \"{output}\"", temp.Path);
        copy.Exit.Should().Be(0, copy.Output);
        string native = Path.Combine(output, "libLibTorchSharp.so");
        File.Exists(native).Should().BeTrue("a linux-x64 publish puts the natives in the app folder");
        FreshOutputLoadTests.IsWeakened(native).Should().BeTrue("DiffusionKit's build step patches the publish folder's copy");

        string app = Path.Combine(output, "NativeLoadConsumer.dll");
        string expected = FreshOutputLoadTests.OldLibStdCxx() ? "outcome=AlreadyPatched sum=10" : "outcome=NotNeeded sum=10";
        var chmod = FreshOutputLoadTests.Run("chmod", $"-R a-w \"{output}\"", temp.Path);
        chmod.Exit.Should().Be(0, chmod.Output);
        try
        {
            var before = Snapshot(output);

            var run = FreshOutputLoadTests.Run("dotnet", $"\"{app}\"", temp.Path);
            run.Exit.Should().Be(0, run.Output);
            run.Output.Should().Contain(expected);

            if (ReadOnlyMountWorks(temp.Path))
            {
                string script = $"mount --bind '{output}' '{output}' && mount -o remount,ro,bind '{output}' && dotnet '{app}'";
                var readOnly = FreshOutputLoadTests.Run("unshare", $"-m sh -c \"{script}\"", temp.Path);
                readOnly.Exit.Should().Be(0, readOnly.Output);
                readOnly.Output.Should().Contain(expected);
            }

            Snapshot(output).Should().Equal(before, "running the app must write nothing under its folder");
        }
        finally
        {
            FreshOutputLoadTests.Run("chmod", $"-R u+w \"{output}\"", temp.Path);
        }
    }

    /// <summary>Every entry under <paramref name="folder"/>: relative path, size, time stamp, mode and content hash.</summary>
    private static List<string> Snapshot(string folder)
    {
        var entries = new List<string>();
        foreach (string path in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var info = new FileInfo(path);
            using var content = Directory.Exists(path) ? null : File.OpenRead(path);
            string relative = Path.GetRelativePath(folder, path);
            string mode = OperatingSystem.IsWindows() ? string.Empty : File.GetUnixFileMode(path).ToString();
            entries.Add(Directory.Exists(path)
                ? $"{relative}/ {Directory.GetLastWriteTimeUtc(path):O} {mode}"
                : $"{relative} {info.Length} {info.LastWriteTimeUtc:O} {mode} {Convert.ToHexString(SHA256.HashData(content!))}");
        }

        return entries;
    }

    /// <summary>Whether this machine lets <c>unshare -m</c> remount a folder read-only (root in a namespace that allows mounts).</summary>
    private static bool ReadOnlyMountWorks(string scratch)
    {
        string probe = Directory.CreateDirectory(Path.Combine(scratch, "mount-probe")).FullName;
        try
        {
            var run = FreshOutputLoadTests.Run("unshare", $"-m sh -c \"mount --bind '{probe}' '{probe}' && mount -o remount,ro,bind '{probe}' && ! touch '{probe}/x' 2>/dev/null\"", scratch);
            return run.Exit == 0 && !File.Exists(Path.Combine(probe, "x"));
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // No unshare.
        }
    }
}
