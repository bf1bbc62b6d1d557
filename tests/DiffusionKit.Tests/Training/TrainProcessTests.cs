using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DiffusionKit.Tests.Training;

/// <summary>
/// The real CLI in a child process: killed with SIGKILL at random moments, its newest checkpoint always loads and
/// resumes; stopped with SIGTERM, it saves a checkpoint with the right step count and exits with 143.
/// </summary>
public sealed class TrainProcessTests(ITestOutputHelper output)
{
    private static readonly string[] TinyRun = ["train", "--batch", "4", "--features", "8", "--count", "16", "--threads", "1", "--precision", "fp32"];

    [PlatformFact("linux", "SIGKILL semantics are what is tested")]
    public void Kill_9_at_random_moments_never_leaves_the_newest_checkpoint_unreadable()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        var random = new Random(20261201);
        var steps = new List<int>();
        var clock = Stopwatch.StartNew();

        // First run: wait for its first checkpoint, then kill it shortly after (often mid-write: it saves every step).
        using (var first = Cli([.. TinyRun, "--out", run, "--steps", "1000000", "--save-every", "1", "--keep", "2"]))
        {
            WaitFor(() => File.Exists(Path.Combine(run, CheckpointDirectory.LatestFileName)), first, TimeSpan.FromSeconds(90));
            Thread.Sleep(random.Next(0, 300));
            first.Kill();
            first.WaitForExit();
        }

        steps.Add(CheckLoadable(run));

        // Then 21 resumed runs, each killed after a random 0.3 to 4 s: during start-up, resume, training or a write.
        for (int i = 0; i < 21; i++)
        {
            using var process = Cli([.. TinyRun, "--out", run, "--steps", "1000000", "--save-every", "1", "--keep", "2", "--resume", run]);
            Thread.Sleep(random.Next(300, 4000));
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The training process ended by itself (exit {process.ExitCode}): {Output(process)}");
            }

            process.Kill();
            process.WaitForExit();
            steps.Add(CheckLoadable(run));
        }

        output.WriteLine($"22 kills in {clock.Elapsed.TotalSeconds:F0} s; newest checkpoint steps after each: {string.Join(", ", steps)}");
        steps.Should().BeInAscendingOrder("a resumed run only ever publishes later steps");

        // A last resumed run to completion cleans the kills' leftovers and ends with a complete checkpoint.
        int target = steps[^1] + 2;
        using (var last = Cli([.. TinyRun, "--out", run, "--steps", target.ToString(System.Globalization.CultureInfo.InvariantCulture), "--save-every", "1", "--keep", "2", "--resume", run]))
        {
            last.WaitForExit(120_000).Should().BeTrue();
            last.WaitForExit();
            last.ExitCode.Should().Be(0, Output(last));
        }

        CheckLoadable(run).Should().Be(target);
        Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName).Should().NotContain(n => n!.StartsWith(".", StringComparison.Ordinal), "leftovers of killed writes are removed");
    }

    [PlatformFact("linux", "SIGTERM and its exit code 143")]
    public void Sigterm_saves_a_checkpoint_with_the_real_step_count_and_exits_143()
    {
        using var dir = new TempDirectory();
        string run = dir.File("run");
        using var process = Cli([.. TinyRun, "--out", run, "--steps", "1000000", "--save-every", "100000"]);
        WaitFor(() => Output(process).Contains("Training ContextUnet", StringComparison.Ordinal), process, TimeSpan.FromSeconds(90));
        Thread.Sleep(3000);
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        process.WaitForExit(60_000).Should().BeTrue("SIGTERM stops training within a step and a checkpoint write");
        process.WaitForExit();
        process.ExitCode.Should().Be(143, Output(process));
        Output(process).Should().Contain("Interrupted");

        var config = DiffusionCheckpoint.ReadConfig(run);
        int steps = int.Parse(config.Training["steps"], System.Globalization.CultureInfo.InvariantCulture);
        steps.Should().BeGreaterThan(0, "training ran for 3 seconds");
        config.Training["completed"].Should().Be("false");
        double.IsFinite(double.Parse(config.Training["final_loss"], System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue();
        var state = JsonNode.Parse(File.ReadAllText(Path.Combine(CheckpointDirectory.Resolve(run), DiffusionCheckpoint.TrainingStateInfoFileName)))!;
        state["step"]!.GetValue<int>().Should().Be(steps);
        CheckpointDirectory.Resolve(run).Should().EndWith(CheckpointDirectory.StepFolderName(steps));
    }

    /// <summary>Loads the newest checkpoint and its training state; returns its step.</summary>
    private static int CheckLoadable(string run)
    {
        using var loaded = DiffusionCheckpoint.Load(run);
        var (info, tensors) = TrainingStateFile.Read(run);
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }

        loaded.Config.Training["steps"].Should().Be(info.Step.ToString(System.Globalization.CultureInfo.InvariantCulture), "config.json and the training state come from the same step");
        return info.Step;
    }

    private static readonly Dictionary<int, StringBuilder> Outputs = new();

    private static string Output(Process process)
    {
        lock (Outputs)
        {
            return Outputs.TryGetValue(process.Id, out var text) ? text.ToString() : string.Empty;
        }
    }

    private static Process Cli(string[] args)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } path && File.Exists(path) ? path : "dotnet";
        var info = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DiffusionKit.Cli.dll"));
        foreach (string arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        var text = new StringBuilder();
        void Append(object sender, DataReceivedEventArgs e)
        {
            lock (Outputs)
            {
                text.AppendLine(e.Data);
            }
        }

        process.OutputDataReceived += Append;
        process.ErrorDataReceived += Append;
        process.Start();
        lock (Outputs)
        {
            Outputs[process.Id] = text;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void WaitFor(Func<bool> condition, Process process, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (process.HasExited || clock.Elapsed > timeout)
            {
                if (!process.HasExited)
                {
                    process.Kill();
                }

                throw new TimeoutException($"The training process did not get there (exited: {process.HasExited}): {Output(process)}");
            }

            Thread.Sleep(20);
        }
    }
}
