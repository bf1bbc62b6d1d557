using System.Collections.Concurrent;
using System.Diagnostics;
using DiffusionKit.Checkpoints;
using DiffusionKit.Tests.Cli;
using FluentAssertions;
using Xunit;
using Xunit.Abstractions;

namespace DiffusionKit.Tests.Checkpoints.Corpus;

/// <summary>
/// Runs a generated corpus of mutated checkpoints through <see cref="DiffusionCheckpoint.Load"/> and a sample of it
/// through <c>diffusionkit sample</c> as a child process: every one must load or fail with the documented exception
/// (naming the file) and exit code, never with another exception, a hang or a signal.
/// </summary>
public sealed class CheckpointCorpusTests(ITestOutputHelper output)
{
    [Fact]
    public void The_corpus_has_at_least_200_mutations_with_unique_names()
    {
        var corpus = CheckpointCorpus.Generate();
        corpus.Count.Should().BeGreaterThanOrEqualTo(200);
        corpus.Select(m => m.Name).Should().OnlyHaveUniqueItems();
    }

    [PlatformFact("unix", "FIFOs and /dev/zero")]
    public void Every_mutated_checkpoint_loads_or_fails_with_the_documented_exception_naming_the_file()
    {
        using var dir = new TempDirectory();
        string valid = dir.File("valid");
        CheckpointCorpus.WriteValid(valid);
        using (DiffusionCheckpoint.Load(valid))
        {
        }

        var corpus = CheckpointCorpus.Generate();
        var problems = new List<string>();
        int loaded = 0, invalid = 0, missing = 0;
        for (int i = 0; i < corpus.Count; i++)
        {
            var mutation = corpus[i];
            string folder = dir.File($"m{i:D3}");
            CheckpointCorpus.Copy(valid, folder);
            mutation.Apply(folder);
            var clock = Stopwatch.StartNew();
            try
            {
                using var checkpoint = DiffusionCheckpoint.Load(folder);
                loaded++;
                output.WriteLine($"{mutation.Name}: loaded");
                if (mutation.Expect != Expect.LoadsOrInvalid)
                {
                    problems.Add($"{mutation.Name}: loaded, expected {mutation.Expect}");
                }
            }
            catch (InvalidDataException ex) when (mutation.Expect is Expect.Invalid or Expect.LoadsOrInvalid)
            {
                invalid++;
                output.WriteLine($"{mutation.Name}: {ex.Message.Replace(folder, "<ckpt>", StringComparison.Ordinal)}");
                if (!ex.Message.Contains(folder, StringComparison.Ordinal))
                {
                    problems.Add($"{mutation.Name}: the message does not name the file: {ex.Message}");
                }
            }
            catch (IOException ex) when (mutation.Expect == Expect.Missing && ex is FileNotFoundException or DirectoryNotFoundException)
            {
                missing++;
                output.WriteLine($"{mutation.Name}: {ex.GetType().Name}: {ex.Message.Replace(folder, "<ckpt>", StringComparison.Ordinal)}");
            }
            catch (Exception ex)
            {
                problems.Add($"{mutation.Name}: {ex.GetType().Name} (expected {mutation.Expect}): {ex.Message}");
            }

            if (clock.Elapsed > TimeSpan.FromSeconds(10))
            {
                problems.Add($"{mutation.Name}: took {clock.Elapsed.TotalSeconds:F1} s");
            }

            Directory.Delete(folder, recursive: true);
        }

        output.WriteLine($"{corpus.Count} mutations: {loaded} loaded, {invalid} InvalidDataException, {missing} missing file");
        problems.Should().BeEmpty();
        invalid.Should().BeGreaterThan(150, "most mutations break the checkpoint");
    }

    [PlatformFact("unix", "FIFOs, /dev/zero and signal exit codes")]
    public void The_cli_exits_with_the_documented_code_and_one_line_never_a_signal()
    {
        using var dir = new TempDirectory();
        string valid = dir.File("valid");
        CheckpointCorpus.WriteValid(valid);
        var corpus = CheckpointCorpus.Generate();

        // Every special file, every huge model, and every tenth of the rest: about 45 child processes.
        var chosen = corpus.Select((m, i) => (Mutation: m, Index: i))
            .Where(p => p.Index % 10 == 0 || p.Mutation.Name.Contains("FIFO", StringComparison.Ordinal) || p.Mutation.Name.Contains("/dev/", StringComparison.Ordinal)
                || p.Mutation.Name.StartsWith("huge", StringComparison.Ordinal) || p.Mutation.Name.Contains("directory", StringComparison.Ordinal))
            .ToList();
        chosen.Add((new CheckpointMutation("unchanged", _ => { }, Expect.LoadsOrInvalid), -1));
        var problems = new ConcurrentBag<string>();
        var codes = new ConcurrentDictionary<int, int>();
        Parallel.ForEach(chosen, new ParallelOptions { MaxDegreeOfParallelism = 4 }, pair =>
        {
            string folder = dir.File($"c{pair.Index + 1:D3}");
            CheckpointCorpus.Copy(valid, folder);
            pair.Mutation.Apply(folder);
            var (code, _, stderr, _, _) = CliProcess.Run(["sample", "--checkpoint", folder, "--out", folder + "-out", "--prompt", CheckpointCorpus.Prompt, "--per-prompt", "1", "--steps", "1", "--threads", "1"]);
            codes.AddOrUpdate(code, 1, (_, n) => n + 1);
            output.WriteLine($"{pair.Mutation.Name}: exit {code}: {stderr.Trim().Replace(folder, "<ckpt>", StringComparison.Ordinal)}");
            int[] allowed = pair.Mutation.Expect switch
            {
                Expect.Invalid => [3],
                Expect.Missing => [4],
                _ => [0, 2, 3], // 2: a flipped bit renamed a vocabulary word, so the prompt's word is unknown
            };
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (!allowed.Contains(code))
            {
                problems.Add($"{pair.Mutation.Name}: exit code {code}, expected {string.Join(" or ", allowed)}; stderr: {stderr}");
            }
            else if (code != 0 && (lines.Length != 1 || !lines[0].StartsWith("error: ", StringComparison.Ordinal)))
            {
                problems.Add($"{pair.Mutation.Name}: stderr is not one 'error:' line: {stderr}");
            }
        });

        output.WriteLine($"{chosen.Count} CLI runs; exit codes: {string.Join(", ", codes.OrderBy(p => p.Key).Select(p => $"{p.Key}×{p.Value}"))}");
        problems.Should().BeEmpty();
        codes.Keys.Should().NotContain(c => c > 128 || c < 0, "no run may end with a signal");
        codes.Should().ContainKey(0, "the unchanged checkpoint samples");
    }
}
