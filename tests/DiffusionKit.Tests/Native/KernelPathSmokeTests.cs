using System.Globalization;
using System.Text.RegularExpressions;
using DiffusionKit.Tests.Cli;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DiffusionKit.Tests.Native;

/// <summary>
/// The demo's network trains a few steps under each oneDNN instruction-set cap this CPU allows (set before libtorch
/// loads, so one child process each) and one or two threads: every run finishes with a finite loss, and the runs agree,
/// because every kernel path computes the same sums (the kernel check moves a faulty path to a route that does).
/// </summary>
public sealed class KernelPathSmokeTests(ITestOutputHelper output)
{
    [Fact]
    public void The_demo_network_trains_to_the_same_finite_loss_on_every_kernel_path_and_thread_count()
    {
        string flags = File.Exists("/proc/cpuinfo") ? File.ReadAllText("/proc/cpuinfo") : string.Empty;
        var caps = new List<string?> { null };
        if (Regex.IsMatch(flags, @"\bavx512f\b"))
        {
            caps.Add("AVX512_CORE");
        }

        if (Regex.IsMatch(flags, @"\bavx2\b"))
        {
            caps.Add("AVX2");
        }

        var threads = Environment.ProcessorCount >= 2 ? new[] { 1, 2 } : new[] { 1 };
        var losses = new List<(string Path, double Loss)>();
        foreach (var cap in caps)
        {
            foreach (int thread in threads)
            {
                using var folder = new TempDirectory();
                var run = CliProcess.Run(
                    new[] { "train", "--out", Path.Combine(folder.Path, "ckpt"), "--steps", "12", "--features", "32", "--count", "240", "--batch", "20", "--precision", "fp32", "--threads", thread.ToString(CultureInfo.InvariantCulture), "--seed", "4" },
                    TimeSpan.FromMinutes(3),
                    environment: new Dictionary<string, string?> { ["ONEDNN_MAX_CPU_ISA"] = cap, ["DIFFUSIONKIT_KERNEL_ROUTE"] = null });
                string path = $"ONEDNN_MAX_CPU_ISA={cap ?? "default"}, {thread} thread(s)";
                output.WriteLine($"{path}: exit {run.Code}; {run.Stderr.Split('\n').FirstOrDefault(l => l.Contains("warning", StringComparison.Ordinal))}");
                run.Code.Should().Be(0, $"{path} must train: {run.Stderr}");
                var match = Regex.Matches(run.Stdout, @"step 12\b[^\n\r]*?loss ([0-9.]+)").LastOrDefault();
                match.Should().NotBeNull($"{path} prints its last step's loss: {run.Stdout}");
                double loss = double.Parse(match!.Groups[1].Value, CultureInfo.InvariantCulture);
                double.IsFinite(loss).Should().BeTrue(path);
                output.WriteLine($"  loss {loss}");
                losses.Add((path, loss));
            }
        }

        double first = losses[0].Loss;
        foreach (var (path, loss) in losses)
        {
            loss.Should().BeApproximately(first, 0.01 * first, $"{path} computes the same steps as {losses[0].Path}");
        }
    }
}
