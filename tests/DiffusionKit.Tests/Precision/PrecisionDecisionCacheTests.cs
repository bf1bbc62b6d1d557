using DiffusionKit.Tests.Native;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Precision;

/// <summary>
/// Auto's decision is remembered per machine and workload, so timing noise cannot flip it between runs. Runs in the
/// collection that runs alone: it points the process-wide cache variable at a folder of its own.
/// </summary>
[Collection(KernelRoutingCollection.Name)]
public sealed class PrecisionDecisionCacheTests
{
    [Fact]
    public void The_first_measurement_decides_and_later_runs_reuse_it_whatever_they_would_measure()
    {
        using var folder = new TempDirectory();
        WithCache(folder.Path, () =>
        {
            int measured = 0;
            PrecisionMeasurement Measure(double bf16) { measured++; return new PrecisionMeasurement(bf16 > 115 ? DiffusionKit.Training.Precision.BFloat16 : DiffusionKit.Training.Precision.Float32, 100, bf16, "test"); }

            var first = PrecisionDecisionCache.GetOrMeasure("workload A", () => Measure(180));
            var second = PrecisionDecisionCache.GetOrMeasure("workload A", () => Measure(101));
            var other = PrecisionDecisionCache.GetOrMeasure("workload B", () => Measure(101));

            measured.Should().Be(2, "workload A was measured once, then remembered");
            first.Chosen.Should().Be(DiffusionKit.Training.Precision.BFloat16);
            first.RememberedIn.Should().BeNull();
            second.Chosen.Should().Be(DiffusionKit.Training.Precision.BFloat16, "the remembered decision wins over a noisy re-measurement");
            second.RememberedIn.Should().Be(Path.Combine(folder.Path, "precision.json"));
            second.ToString().Should().Contain("remembered in").And.Contain("--precision fp32|bf16");
            other.Chosen.Should().Be(DiffusionKit.Training.Precision.Float32);
        });
    }

    [Fact]
    public void A_damaged_cache_file_is_measured_over_and_rewritten_never_fatal()
    {
        using var folder = new TempDirectory();
        File.WriteAllText(Path.Combine(folder.Path, "precision.json"), "{ \"truncated");
        WithCache(folder.Path, () =>
        {
            var result = PrecisionDecisionCache.GetOrMeasure("workload", () => new PrecisionMeasurement(DiffusionKit.Training.Precision.Float32, 1, 1, "test"));

            result.RememberedIn.Should().BeNull();
            File.ReadAllText(Path.Combine(folder.Path, "precision.json")).Should().Contain("\"chosen\": \"Float32\"");
        });
    }

    [Fact]
    public void Off_turns_the_memory_off()
    {
        WithCache("off", () => PrecisionDecisionCache.FilePath().Should().BeNull());
    }

    private static void WithCache(string value, Action body)
    {
        string? before = Environment.GetEnvironmentVariable(PrecisionDecisionCache.FolderVariable);
        Environment.SetEnvironmentVariable(PrecisionDecisionCache.FolderVariable, value);
        try
        {
            body();
        }
        finally
        {
            Environment.SetEnvironmentVariable(PrecisionDecisionCache.FolderVariable, before);
        }
    }
}
