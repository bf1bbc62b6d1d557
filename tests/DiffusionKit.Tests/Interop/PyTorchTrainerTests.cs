using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.Cli;
using FluentAssertions;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Interop;

/// <summary>
/// The PyTorch trainer in <c>python/</c> (issue 20) against the .NET side: its own tests (DDP on 2 processes equals one
/// process, resume, checkpoint layout), a model trained on 2 processes loading in .NET with PyTorch's predictions, and a
/// .NET training state resuming in PyTorch with the .NET trainer's next step. Each runs Debian's PyTorch 1.13 in child
/// processes, as a user runs it.
/// </summary>
[Collection(PyTorchTrainerCollection.Name)]
public sealed class PyTorchTrainerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Minutes = TimeSpan.FromMinutes(10);

    /// <summary>The shapes options both trainers get: 40 images of 16×16, small and fast.</summary>
    private static readonly string[] TinyShapes = ["--data", "shapes", "--count", "40", "--image-size", "16"];

    /// <summary>A recipe that exercises the schedule, v-prediction, Min-SNR, EMA, warm-up and context dropout.</summary>
    private static readonly string[] Recipe =
        ["--features", "16", "--batch", "8", "--lr", "2e-3", "--lr-schedule", "cosine", "--warmup", "2", "--prediction", "v_prediction", "--snr-gamma", "5", "--ema", "0.9", "--dropout", "0.2", "--seed", "3"];

    /// <summary>‖a − b‖ / ‖b‖ over the floating-point tensors under <paramref name="prefix"/> (the whole model as one vector), optionally leaving some out.</summary>
    private static double RelativeDifference(IReadOnlyDictionary<string, Tensor> actual, IReadOnlyDictionary<string, Tensor> expected, string prefix, Func<string, bool>? leaveOut = null, int atLeast = 10)
    {
        double diff = 0, norm = 0;
        int compared = 0;
        foreach (var (name, want) in expected.Where(p => p.Key.StartsWith(prefix, StringComparison.Ordinal) && p.Value.is_floating_point() && !(leaveOut?.Invoke(p.Key) ?? false)))
        {
            actual.Should().ContainKey(name);
            var got = actual[name];
            got.shape.Should().Equal(want.shape, name);
            using var d = (got.to(ScalarType.Float64) - want.to(ScalarType.Float64)).square().sum();
            using var n = want.to(ScalarType.Float64).square().sum();
            diff += d.item<double>();
            norm += n.item<double>();
            compared++;
        }

        compared.Should().BeGreaterThanOrEqualTo(atLeast, $"the tensors under '{prefix}' are compared");
        return Math.Sqrt(diff) / Math.Sqrt(norm);
    }

    [PyTorchFact]
    public void The_pytorch_trainers_own_tests_pass_including_one_ddp_step_on_two_processes_equal_to_one_process()
    {
        var (code, log) = PythonProcess.Run(["-m", "unittest", "discover", "-s", "tests", "-v"], Minutes);
        output.WriteLine(log);
        code.Should().Be(0, log);
        log.Should().Contain("\nOK").And.MatchRegex(@"Ran \d+ tests");
    }

    [PyTorchFact]
    public void A_model_trained_on_two_pytorch_processes_loads_in_dotnet_and_predicts_the_same_noise()
    {
        using var dir = new TempDirectory();
        string run = dir.File("torch-run");
        var trained = PythonProcess.SelfTest(["train-tiny", .. TinyShapes, .. Recipe, "--steps", "3", "--nproc-per-node", "2", "--out", run], Minutes);
        output.WriteLine(trained.ToString());
        string io = dir.File("io.safetensors");
        PythonProcess.SelfTest(["predict", "--checkpoint", run, "--io", io], Minutes);

        // The folder PyTorch wrote is a .NET checkpoint: config, weights (with the content digest), training state.
        using var loaded = DiffusionCheckpoint.Load(run);
        ContextUnetType.ReadOptions(loaded.Config.Model).Features.Should().Be(16);
        var inputs = SafeTensorsFile.Read(io);
        using var noGrad = no_grad();
        using var predicted = loaded.Model.PredictNoise(inputs["x"], inputs["t"], inputs["c"]);
        double relative = RelativeDifference(new Dictionary<string, Tensor> { ["eps"] = predicted }, new Dictionary<string, Tensor> { ["eps"] = inputs["eps"] }, "eps", atLeast: 1);
        output.WriteLine($"‖eps(.NET) − eps(PyTorch)‖ / ‖eps(PyTorch)‖ = {relative:E2}");
        relative.Should().BeLessThanOrEqualTo(1e-5, "the same weights predict the same noise in both engines");

        // And it serves: the pipeline a host app builds from the folder generates an image.
        using var pipeline = new DiffusionPipelineBuilder().FromCheckpoint(run).UseSampler(SamplerKind.Ddim, steps: 3).Build();
        var result = pipeline.GenerateAsync(new GenerationRequest { Prompts = [string.Empty], Seed = 1 }).GetAwaiter().GetResult();
        result.Images.Should().ContainSingle().Which.Png.Length.Should().BeGreaterThan(8);
    }

    [PyTorchFact]
    public void A_dotnet_training_state_resumes_in_pytorch_and_its_first_step_is_the_dotnet_trainers_next_step()
    {
        using var dir = new TempDirectory();
        string run = dir.File("dotnet-run");
        // .NET trains 3 steps with a checkpoint (and its training state) at step 2 and at the end.
        var dotnet = CliProcess.Run(["train", .. TinyShapes, .. Recipe, "--steps", "3", "--save-every", "2", "--precision", "fp32", "--threads", "1", "--out", run], Minutes);
        dotnet.Code.Should().Be(0, dotnet.Stdout + dotnet.Stderr);
        string step2 = Path.Combine(run, CheckpointDirectory.StepFolderName(2));
        string step3 = Path.Combine(run, CheckpointDirectory.StepFolderName(3));
        Directory.Exists(step2).Should().BeTrue();

        // PyTorch resumes step 2's state and takes one step.
        string torchRun = dir.File("torch-resumed");
        var resumed = PythonProcess.SelfTest(["resume-step", "--resume", step2, .. TinyShapes, "--out", torchRun], Minutes);
        output.WriteLine(resumed.ToString());

        var expected = SafeTensorsFile.Read(Path.Combine(step3, DiffusionCheckpoint.TrainingStateFileName));
        var actual = SafeTensorsFile.Read(Path.Combine(CheckpointDirectory.Resolve(torchRun), DiffusionCheckpoint.TrainingStateFileName));
        // The biases of convolutions that feed a BatchNorm (conv1.0.bias, conv2.0.bias of every residual block) have a true
        // gradient of exactly zero (BatchNorm subtracts the batch mean), so each engine's gradient there is rounding noise,
        // which Adam's normalisation turns into steps of the order of the learning rate. They are compared on their own, at
        // the learning rate's scale; everything else must agree to 1e-5 (docs/scale.md, "What stays the same").
        static bool ZeroGradientBias(string name) => name.EndsWith(".conv1.0.bias", StringComparison.Ordinal) || name.EndsWith(".conv2.0.bias", StringComparison.Ordinal);
        var emaNames = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(step3, DiffusionCheckpoint.TrainingStateInfoFileName))).RootElement.GetProperty("ema_tensors").EnumerateArray().Select(e => e.GetString()!).ToList();
        bool EmaOfZeroGradientBias(string name) => int.TryParse(name["ema/".Length..], out int i) && ZeroGradientBias(emaNames[i]);
        double weights = RelativeDifference(actual, expected, "model/", ZeroGradientBias);
        double moments = RelativeDifference(actual, expected, "adam/");
        double ema = RelativeDifference(actual, expected, "ema/", EmaOfZeroGradientBias);
        double all = RelativeDifference(actual, expected, "model/");
        double biasMax = expected.Where(p => p.Key.StartsWith("model/", StringComparison.Ordinal) && ZeroGradientBias(p.Key))
            .Max(p => (actual[p.Key] - p.Value).abs().max().item<float>());
        output.WriteLine($"step 3, PyTorch vs .NET: live weights {weights:E2}, Adam moments {moments:E2}, EMA {ema:E2} (relative); all weights {all:E2}; zero-gradient biases differ by at most {biasMax:E2}");
        weights.Should().BeLessThanOrEqualTo(1e-5, "the resumed step is the .NET trainer's next step: same batch, timesteps, noise and dropout from the restored generator");
        moments.Should().BeLessThanOrEqualTo(1e-5);
        ema.Should().BeLessThanOrEqualTo(1e-5);
        biasMax.Should().BeLessThanOrEqualTo(2 * 2e-3, "a zero-gradient bias moves by at most about one learning rate (2e-3) per step in either engine");
    }
}
