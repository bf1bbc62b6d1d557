using DiffusionKit.Checkpoints;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Checkpoints;

/// <summary>The training output folder: complete step folders made current atomically, pruning, leftovers, resolution.</summary>
public sealed class CheckpointDirectoryTests
{
    private static Action<string> WriteConfig(string text) => folder => File.WriteAllText(Path.Combine(folder, DiffusionCheckpoint.ConfigFileName), text);

    [Fact]
    public void Publish_makes_the_step_folder_current_and_keeps_the_newest()
    {
        using var dir = new TempDirectory();
        string root = dir.File("run");
        foreach (int step in new[] { 10, 20, 30, 40 })
        {
            string written = CheckpointDirectory.Publish(root, step, WriteConfig($"step {step}"), keep: 2);
            written.Should().Be(Path.Combine(root, CheckpointDirectory.StepFolderName(step)));
            CheckpointDirectory.Resolve(root).Should().Be(written);
        }

        CheckpointDirectory.StepFolders(root).Select(f => f.Step).Should().Equal(30, 40);
        File.ReadAllText(Path.Combine(root, CheckpointDirectory.LatestFileName)).Should().Be("step-0000040\n");
        Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Should().BeEquivalentTo(["step-0000030", "step-0000040", "latest"], "nothing hidden is left behind");
    }

    [Fact]
    public void A_new_run_into_a_folder_with_an_earlier_runs_higher_steps_keeps_its_own_newest()
    {
        using var dir = new TempDirectory();
        string root = dir.File("run");
        foreach (int step in new[] { 300, 400, 500 })
        {
            CheckpointDirectory.Publish(root, step, WriteConfig($"old {step}"), keep: 3);
        }

        // Make the earlier run's files clearly older (a file system's clock can be coarse).
        foreach (var (_, path) in CheckpointDirectory.StepFolders(root))
        {
            File.SetLastWriteTimeUtc(Path.Combine(path, DiffusionCheckpoint.ConfigFileName), DateTime.UtcNow.AddHours(-1));
        }

        foreach (int step in new[] { 10, 20, 30 })
        {
            CheckpointDirectory.Publish(root, step, WriteConfig($"new {step}"), keep: 2);
            CheckpointDirectory.StepFolders(root).Should().HaveCountLessThanOrEqualTo(2, "--keep 2 holds whatever the folder held before");
        }

        CheckpointDirectory.StepFolders(root).Select(f => f.Step).Should().Equal(20, 30);
        CheckpointDirectory.Resolve(root).Should().EndWith("step-0000030");
    }

    [Fact]
    public void Writing_a_step_again_replaces_it_and_a_failed_write_leaves_the_current_checkpoint()
    {
        using var dir = new TempDirectory();
        string root = dir.File("run");
        CheckpointDirectory.Publish(root, 5, WriteConfig("first"), keep: 3);
        CheckpointDirectory.Publish(root, 5, WriteConfig("second"), keep: 3);
        File.ReadAllText(Path.Combine(CheckpointDirectory.Resolve(root), DiffusionCheckpoint.ConfigFileName)).Should().Be("second");

        var failing = () => CheckpointDirectory.Publish(root, 6, folder => throw new IOException("disk full"), keep: 3);
        failing.Should().Throw<IOException>();
        CheckpointDirectory.Resolve(root).Should().EndWith("step-0000005");
        Directory.EnumerateDirectories(root, ".tmp-*").Should().BeEmpty("the failed write cleans its own temporary folder");
    }

    [Fact]
    public void Leftovers_of_killed_writes_are_ignored_by_readers_and_removed_by_the_next_writer()
    {
        using var dir = new TempDirectory();
        string root = dir.File("run");
        CheckpointDirectory.Publish(root, 1, WriteConfig("one"), keep: 3);
        // What a kill -9 can leave: a half-written checkpoint folder and a half-written pointer file.
        Directory.CreateDirectory(Path.Combine(root, ".tmp-step-0000002-abcdef12"));
        File.WriteAllText(Path.Combine(root, ".tmp-step-0000002-abcdef12", DiffusionCheckpoint.ConfigFileName), "{ half");
        File.WriteAllText(Path.Combine(root, ".latest.1234abcd.tmp"), "step-00");

        CheckpointDirectory.Resolve(root).Should().EndWith("step-0000001");
        CheckpointDirectory.CleanLeftovers(root).Should().Be(2);
        Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Should().BeEquivalentTo(["step-0000001", "latest"]);
    }

    [Fact]
    public void Resolve_falls_back_to_the_newest_step_folder_and_leaves_plain_folders_alone()
    {
        using var dir = new TempDirectory();
        string root = dir.File("run");
        CheckpointDirectory.Publish(root, 3, WriteConfig("three"), keep: 5);
        CheckpointDirectory.Publish(root, 7, WriteConfig("seven"), keep: 5);
        File.WriteAllText(Path.Combine(root, CheckpointDirectory.LatestFileName), "step-0000009\n");
        CheckpointDirectory.Resolve(root).Should().EndWith("step-0000007", "latest names a folder that is gone");
        File.Delete(Path.Combine(root, CheckpointDirectory.LatestFileName));
        CheckpointDirectory.Resolve(root).Should().EndWith("step-0000007");

        string plain = dir.File("plain");
        Directory.CreateDirectory(plain);
        WriteConfig("plain")(plain);
        CheckpointDirectory.Resolve(plain).Should().Be(plain);
        CheckpointDirectory.Resolve(dir.File("missing")).Should().Be(dir.File("missing"));
        ((Action)(() => CheckpointDirectory.Publish(root, 8, WriteConfig("x"), keep: 0))).Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("keep");
    }
}
