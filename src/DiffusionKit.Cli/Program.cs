using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Native;

const string Usage = """
    diffusionkit — train and sample text-conditioned diffusion models

    Commands:
      demo     train on the built-in shapes data, sample every prompt, write PNGs + grid + manifest, print adherence
      train    train a model and write a checkpoint folder
      sample   generate images from a checkpoint
      eval     score a manifest.jsonl against the shapes rules
      bench    measure training and sampling speed and memory
      bench-samplers  prompt adherence and time of each sampler and step count on a checkpoint

    Run 'diffusionkit <command> --help' for a command's options, 'diffusionkit --version' for the version.
    """;

// Every failure ends here as one line on stderr and a documented exit code (ExitCodes, docs/cli.md); nothing ends
// with "Unhandled exception" and SIGABRT. A failure on another thread is reported the same way.
AppDomain.CurrentDomain.UnhandledException += (_, e) =>
{
    var (code, message) = e.ExceptionObject is Exception ex ? ExitCodes.Describe(ex) : (ExitCodes.Failure, "unknown failure");
    Console.Error.WriteLine($"error: {message}");
    Environment.Exit(code);
};

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.WriteLine(Usage);
    return args.Length == 0 ? ExitCodes.Usage : ExitCodes.Success;
}

if (args[0] is "--version")
{
    Console.WriteLine(CliVersion.Text);
    return 0;
}

var rest = args.Skip(1).ToArray();
(string usage, Func<CliArguments, int> run) command = args[0] switch
{
    "demo" => (DemoCommand.Usage, DemoCommand.Run),
    "train" => (TrainCommand.Usage, TrainCommand.Run),
    "sample" => (SampleCommand.Usage, SampleCommand.Run),
    "eval" => (EvalCommand.Usage, EvalCommand.Run),
    "bench" => (BenchCommand.Usage, BenchCommand.Run),
    "bench-samplers" => (SamplerBenchCommand.Usage, SamplerBenchCommand.Run),
    _ => (string.Empty, _ => -1),
};

if (command.usage.Length == 0)
{
    Console.Error.WriteLine($"error: unknown command '{ExitCodes.OneLine(args[0])}'; the commands are demo, train, sample, eval, bench, bench-samplers (run 'diffusionkit --help').");
    return ExitCodes.Usage;
}

if (rest.Contains("--help") || rest.Contains("-h"))
{
    Console.WriteLine(command.usage);
    return ExitCodes.Success;
}

try
{
    TorchSharpNativeCompatibility.EnsureLoadable();

    // TorchSharp 0.107 reports get_num_threads() = cores but runs its OpenMP pool on fewer until set explicitly
    // (measured: a 3x3 conv runs 2.2x faster after set_num_threads(2) on a 2-core machine). --threads overrides this.
    TorchSharp.torch.set_num_threads(Environment.ProcessorCount);
    return command.run(CliArguments.Parse(rest));
}
catch (Exception ex)
{
    var (code, message) = ExitCodes.Describe(ex);
    string hint = code == ExitCodes.Usage ? $" (run 'diffusionkit {args[0]} --help' for the options)" : string.Empty;
    Console.Error.WriteLine($"error: {message}{hint}");
    return code;
}
