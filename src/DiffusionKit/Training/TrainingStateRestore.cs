using System.Globalization;
using DiffusionKit.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>Puts a saved training state (see <see cref="TrainingStateFile"/>) back into a starting run: checks, live weights, then optimiser, EMA, RNG and data order.</summary>
internal static class TrainingStateRestore
{
    /// <summary>Throws naming the first setting in which the saved run and this one differ.</summary>
    public static void CheckFits(TrainingStateInfo info, IReadOnlyDictionary<string, Tensor> tensors, DiffusionTrainerOptions options, Precision precision, int datasetCount, int batch, nn.Module model, int encoderParameters)
    {
        void Require(bool ok, string what, object saved, object now, string remedy)
        {
            if (!ok)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Cannot resume from '{options.ResumeFrom}': the saved run used {what} {saved} but this one uses {now}; {remedy}"), nameof(options));
            }
        }

        Require(info.DatasetCount == datasetCount, "a data set of", info.DatasetCount, datasetCount, "resume on the same data.");
        Require(info.BatchSize == batch, "batch size", info.BatchSize, batch, "resume with the same BatchSize (--batch).");
        Require(info.GradientAccumulationSteps == options.GradientAccumulationSteps, "GradientAccumulationSteps", info.GradientAccumulationSteps, options.GradientAccumulationSteps, "resume with the same value (--grad-accum).");
        Require(info.Precision == precision.ToString(), "precision", info.Precision, precision, "resume with the same Precision (--precision), or Auto.");
        bool savedEma = tensors.Keys.Any(k => k.StartsWith("ema/", StringComparison.Ordinal));
        Require(savedEma == options.EmaDecay > 0, "EMA", savedEma ? "on" : "off", options.EmaDecay > 0 ? "on" : "off", "resume with the same EmaDecay (--ema).");
        int savedEncoder = tensors.Keys.Count(k => k.StartsWith("encoder/", StringComparison.Ordinal));
        Require(savedEncoder == encoderParameters, "a text encoder with trainable parameter count", savedEncoder, encoderParameters, "resume with the checkpoint's text encoder.");
        int modelTensors = model.state_dict().Count;
        int savedModel = tensors.Keys.Count(k => k.StartsWith("model/", StringComparison.Ordinal));
        Require(savedModel == modelTensors, "a model with tensor count", savedModel, modelTensors, "resume with the checkpoint's model settings.");
    }

    /// <summary>Copies the saved live weights into the model (float32, before any bfloat16 cast) and the encoder's parameters.</summary>
    public static void LoadLiveWeights(IReadOnlyDictionary<string, Tensor> tensors, nn.Module model, IReadOnlyList<TorchSharp.Modules.Parameter> encoderParameters)
    {
        var weights = tensors.Where(p => p.Key.StartsWith("model/", StringComparison.Ordinal))
            .ToDictionary(p => p.Key["model/".Length..], p => p.Value, StringComparer.Ordinal);
        try
        {
            ModuleWeights.Load(model, weights);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"The saved training state does not fit this model: {ex.Message}", "model", ex);
        }

        using var noGrad = no_grad();
        for (int i = 0; i < encoderParameters.Count; i++)
        {
            var saved = Get(tensors, "encoder/" + i.ToString(CultureInfo.InvariantCulture));
            CheckShape(saved, encoderParameters[i], "encoder parameter " + i.ToString(CultureInfo.InvariantCulture));
            encoderParameters[i].copy_(saved);
        }
    }

    /// <summary>Restores Adam's moments and step counts, the EMA, the generator; returns the saved data order (a new tensor) or null.</summary>
    /// <param name="info">The saved counters.</param>
    /// <param name="tensors">The saved tensors.</param>
    /// <param name="optimizer">This run's optimiser.</param>
    /// <param name="adamNames">The name of each of this run's optimiser parameters, in index order (as <see cref="TrainingStateInfo.AdamParameters"/> writes them).</param>
    /// <param name="ema">This run's EMA, or null.</param>
    /// <param name="emaNames">The name of each EMA shadow, in index order, or null without EMA.</param>
    /// <param name="generator">This run's generator.</param>
    public static Tensor? Restore(TrainingStateInfo info, IReadOnlyDictionary<string, Tensor> tensors, TorchSharp.Modules.OptimizerHelper optimizer, IReadOnlyList<string> adamNames, ExponentialMovingAverage? ema, IReadOnlyList<string>? emaNames, Generator generator)
    {
        // A file that names its indices (every file since adam_parameters/ema_tensors, and the PyTorch trainer's) must use
        // this run's order: the moments are matched by index, so a different order would silently pair the wrong tensors.
        RequireSameOrder(info.AdamParameters, adamNames, "adam_parameters");
        if (emaNames is not null)
        {
            RequireSameOrder(info.EmaTensors, emaNames, "ema_tensors");
        }

        using var noGrad = no_grad();
        var states = optimizer.state_dict().State.Cast<TorchSharp.Modules.Adam.State>().ToList();
        if (states.Count != info.AdamSteps.Length)
        {
            throw new ArgumentException($"The saved training state has Adam state for {info.AdamSteps.Length} parameters but this run optimises {states.Count}; resume with the checkpoint's model and text encoder.", "model");
        }

        for (int i = 0; i < states.Count; i++)
        {
            string prefix = "adam/" + i.ToString(CultureInfo.InvariantCulture);
            var expAvg = Get(tensors, prefix + "/exp_avg");
            var expAvgSq = Get(tensors, prefix + "/exp_avg_sq");
            CheckShape(expAvg, states[i].exp_avg, prefix);
            CheckShape(expAvgSq, states[i].exp_avg_sq, prefix);
            states[i].exp_avg.copy_(expAvg);
            states[i].exp_avg_sq.copy_(expAvgSq);
            states[i].step = info.AdamSteps[i];
        }

        if (ema is not null)
        {
            var shadows = ema.Shadows;
            for (int i = 0; i < shadows.Count; i++)
            {
                var saved = Get(tensors, "ema/" + i.ToString(CultureInfo.InvariantCulture));
                CheckShape(saved, shadows[i], "EMA shadow " + i.ToString(CultureInfo.InvariantCulture));
                shadows[i].copy_(saved);
            }

            ema.Updates = info.EmaUpdates;
        }

        generator.set_state(Get(tensors, "rng/generator"));
        return tensors.TryGetValue("data/order", out var order) ? order.clone().DetachFromDisposeScope() : null;
    }

    private static void RequireSameOrder(string[]? saved, IReadOnlyList<string> now, string field)
    {
        if (saved is null)
        {
            return;
        }

        int first = Enumerable.Range(0, Math.Max(saved.Length, now.Count)).FirstOrDefault(i => i >= saved.Length || i >= now.Count || saved[i] != now[i], -1);
        if (first >= 0)
        {
            string savedName = first < saved.Length ? saved[first] : "(none)";
            string nowName = first < now.Count ? now[first] : "(none)";
            throw new InvalidDataException(string.Create(CultureInfo.InvariantCulture, $"The saved training state's {DiffusionCheckpoint.TrainingStateInfoFileName} field '{field}' names '{savedName}' at index {first}, but this run's tensor there is '{nowName}'; the state was written for another model or in another order (see docs/checkpoints.md, \"Checkpoints written during training\")."));
        }
    }

    private static Tensor Get(IReadOnlyDictionary<string, Tensor> tensors, string name) =>
        tensors.TryGetValue(name, out var tensor)
            ? tensor
            : throw new InvalidDataException($"The saved training state has no tensor '{name}'; the checkpoint's {DiffusionCheckpoint.TrainingStateFileName} is incomplete.");

    private static void CheckShape(Tensor saved, Tensor live, string what)
    {
        if (!saved.shape.SequenceEqual(live.shape))
        {
            throw new ArgumentException($"The saved training state's {what} has shape [{string.Join(", ", saved.shape)}] but this run's has [{string.Join(", ", live.shape)}]; resume with the checkpoint's model settings.", "model");
        }
    }
}
