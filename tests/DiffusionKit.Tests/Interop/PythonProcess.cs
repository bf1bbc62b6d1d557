using System.Diagnostics;
using System.Text.Json;
using DiffusionKit.Tests.Native;

namespace DiffusionKit.Tests.Interop;

/// <summary>Runs <c>python3 -m diffusionkit_torch.…</c> from the repository's <c>python/</c> folder, as its README says a user does.</summary>
internal static class PythonProcess
{
    /// <summary>Debian's interpreter, whose <c>python3-torch</c> package is PyTorch 1.13 (a pyenv <c>python3</c> on PATH would lack it).</summary>
    public const string Interpreter = "/usr/bin/python3";

    private static readonly Lazy<bool> Available = new(() =>
    {
        if (!File.Exists(Interpreter))
        {
            return false;
        }

        var (code, _) = Run(["-c", "import torch, numpy, PIL"], TimeSpan.FromSeconds(60));
        return code == 0;
    });

    /// <summary>True when <see cref="Interpreter"/> imports torch, numpy and PIL.</summary>
    public static bool HasPyTorch => Available.Value;

    /// <summary>The repository's <c>python/</c> folder.</summary>
    public static string PackageRoot => Path.Combine(FreshOutputLoadTests.RepoRoot(), "python");

    /// <summary>Runs the interpreter with <paramref name="arguments"/> in <see cref="PackageRoot"/>; kills it after <paramref name="timeout"/>.</summary>
    /// <returns>The exit code (-1 when it timed out) and stdout + stderr.</returns>
    public static (int Code, string Output) Run(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(Interpreter)
        {
            WorkingDirectory = PackageRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            return (-1, $"timed out after {timeout}\n{stdout.Result}\n{stderr.Result}");
        }

        process.WaitForExit();
        return (process.ExitCode, stdout.Result + "\n" + stderr.Result);
    }

    /// <summary>Runs <c>-m diffusionkit_torch.selftest</c> with <paramref name="arguments"/> and returns its one JSON result line; throws with the output when it failed.</summary>
    public static JsonElement SelfTest(IEnumerable<string> arguments, TimeSpan timeout)
    {
        var (code, output) = Run(new[] { "-m", "diffusionkit_torch.selftest" }.Concat(arguments), timeout);
        var line = output.Split('\n').LastOrDefault(l => l.StartsWith("{\"ok\"", StringComparison.Ordinal));
        if (code != 0 || line is null)
        {
            throw new InvalidOperationException($"diffusionkit_torch.selftest {string.Join(' ', arguments)} exited {code}:\n{output}");
        }

        return JsonDocument.Parse(line).RootElement.Clone();
    }
}
