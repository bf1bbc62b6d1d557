using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Checkpoints.Corpus;

/// <summary>What loading a mutated checkpoint must do.</summary>
internal enum Expect
{
    /// <summary><see cref="InvalidDataException"/> (CLI exit code 3).</summary>
    Invalid,

    /// <summary><see cref="FileNotFoundException"/> or <see cref="DirectoryNotFoundException"/> (CLI exit code 4).</summary>
    Missing,

    /// <summary>Either a successful load (the mutation kept the file valid) or <see cref="InvalidDataException"/>.</summary>
    LoadsOrInvalid,
}

/// <summary>One mutation of the tiny valid checkpoint: a name, how to apply it to a copy, and what loading must do.</summary>
internal sealed record CheckpointMutation(string Name, Action<string> Apply, Expect Expect)
{
    public override string ToString() => Name;
}

/// <summary>
/// Generates a corpus of mutated checkpoints from one tiny valid checkpoint: field-level config edits (huge, negative,
/// wrong-typed, missing and unknown fields), byte-level damage (truncations, bit flips, invalid UTF-8), weights damage
/// (dtypes, swapped offsets, NaN/Inf, missing and extra tensors) and special files (FIFOs, links to /dev/zero,
/// directories in place of files). Deterministic: the same seed gives the same corpus.
/// </summary>
internal static class CheckpointCorpus
{
    public const string Prompt = "red circle";

    private static readonly string[] Vocabulary = ["red", "blue", "circle", "square"];

    /// <summary>Writes the tiny valid checkpoint (n_feat 8, 8×8 images, a 4-word bag of words) to <paramref name="folder"/>.</summary>
    public static void WriteValid(string folder)
    {
        var encoder = new BagOfWordsEncoder(Vocabulary);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 4, ImageSize = 8 }, seed: 3);
        DiffusionCheckpoint.Save(folder, model, DiffusionCheckpoint.Describe(model, new SchedulerOptions { PredictionType = PredictionType.VPrediction }, encoder));
    }

    /// <summary>Copies the valid checkpoint in <paramref name="source"/> to <paramref name="destination"/>.</summary>
    public static void Copy(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }
    }

    public static IReadOnlyList<CheckpointMutation> Generate(int seed = 1234)
    {
        var random = new Random(seed);
        var list = new List<CheckpointMutation>();
        const string config = DiffusionCheckpoint.ConfigFileName;
        const string weights = DiffusionCheckpoint.WeightsFileName;

        // 1. Integer fields: every one of these values is wrong for the tiny model (or out of bounds, or of the wrong JSON type).
        JsonNode?[] badIntegers() => [0, -1, int.MaxValue, int.MinValue, 1_000_000, 1e10, "12", null, true, new JsonArray(), new JsonObject()];
        foreach (var field in new[] { "model.in_channels", "model.n_feat", "model.n_cfeat", "model.height", "scheduler.num_train_timesteps", "version" })
        {
            foreach (var value in badIntegers())
            {
                // The scheduler section is a diffusers scheduler_config.json: null means absent, which takes diffusers' default.
                var expect = value is null && field.StartsWith("scheduler.", StringComparison.Ordinal) ? Expect.LoadsOrInvalid : Expect.Invalid;
                list.Add(new($"{field} = {Show(value)}", f => SetField(f, field, value), expect));
            }
        }

        // 2. Floating-point fields: numbers may or may not be valid schedules; other JSON types never are.
        foreach (var field in new[] { "scheduler.beta_start", "scheduler.beta_end", "scheduler.clip_sample_range" })
        {
            foreach (var value in new JsonNode?[] { -1, 0, 1e308, 0.5 })
            {
                list.Add(new($"{field} = {Show(value)}", f => SetField(f, field, value), Expect.LoadsOrInvalid));
            }

            foreach (var value in new JsonNode?[] { "x", new JsonArray(), new JsonObject() })
            {
                list.Add(new($"{field} = {Show(value)}", f => SetField(f, field, value), Expect.Invalid));
            }

            list.Add(new($"{field} = null (diffusers' default)", f => SetField(f, field, null), Expect.LoadsOrInvalid));
        }

        // 3. Names and strings.
        foreach (var field in new[] { "format", "model.type", "scheduler.beta_schedule", "scheduler.prediction_type", "scheduler.timestep_spacing", "scheduler.diffusionkit_convention", "scheduler._class_name", "text_encoder.type" })
        {
            foreach (var value in new JsonNode?[] { "", "bogus", 5, null })
            {
                var expect = value is null && field.StartsWith("scheduler.", StringComparison.Ordinal) ? Expect.LoadsOrInvalid : Expect.Invalid;
                list.Add(new($"{field} = {Show(value)}", f => SetField(f, field, value), expect));
            }
        }

        // 4. Required fields removed (a missing scheduler must not silently mean epsilon), unknown fields added.
        foreach (var field in new[] { "format", "version", "model", "scheduler", "text_encoder", "model.type", "model.in_channels", "model.n_feat", "model.n_cfeat", "model.height",
            "text_encoder.type", "text_encoder.vocabulary" })
        {
            list.Add(new($"remove {field}", f => RemoveField(f, field), Expect.Invalid));
        }

        foreach (var field in new[] { "scheduler.num_train_timesteps", "scheduler.beta_start", "scheduler.beta_end", "scheduler._class_name" })
        {
            list.Add(new($"remove {field} (diffusers' default)", f => RemoveField(f, field), Expect.LoadsOrInvalid));
        }

        foreach (var parent in new[] { "", "model.", "text_encoder." })
        {
            list.Add(new($"unknown field {parent}extra", f => SetField(f, parent + "extra", 1), Expect.Invalid));
        }

        list.Add(new("unknown field scheduler.extra (ignored, as diffusers does)", f => SetField(f, "scheduler.extra", 1), Expect.LoadsOrInvalid));
        list.Add(new("scheduler.thresholding = true (unsupported)", f => SetField(f, "scheduler.thresholding", true), Expect.Invalid));
        list.Add(new("scheduler = [] ", f => SetField(f, "scheduler", new JsonArray()), Expect.Invalid));
        list.Add(new("scheduler = null", f => SetField(f, "scheduler", null), Expect.Invalid));

        list.Add(new("remove scheduler.prediction_type (optional, documented default)", f => RemoveField(f, "scheduler.prediction_type"), Expect.LoadsOrInvalid));
        list.Add(new("remove training (optional)", f => RemoveField(f, "training"), Expect.LoadsOrInvalid));
        list.Add(new("training = null", f => SetField(f, "training", null), Expect.Invalid));
        list.Add(new("training value is a number", f => SetField(f, "training.steps", 5), Expect.Invalid));
        list.Add(new("vocabulary has a duplicate", f => SetField(f, "text_encoder.vocabulary", new JsonArray("red", "red", "circle", "square")), Expect.Invalid));
        list.Add(new("vocabulary one word short", f => SetField(f, "text_encoder.vocabulary", new JsonArray("red", "blue", "circle")), Expect.Invalid));
        list.Add(new("vocabulary of 100,001 words", f => SetField(f, "text_encoder.vocabulary", new JsonArray(Enumerable.Range(0, 100_001).Select(i => (JsonNode?)JsonValue.Create("w" + i)).ToArray())), Expect.Invalid));
        list.Add(new("text_encoder learned without dim", f => SetField(f, "text_encoder.type", "learned"), Expect.Invalid));
        list.Add(new("text_encoder.dim = 1e9", f => SetField(f, "text_encoder.dim", 1_000_000_000), Expect.Invalid));

        // 5. Huge declared models in a small config: must fail before the model is built.
        list.Add(new("huge: n_feat 1024, height 512", f => { SetField(f, "model.n_feat", 1024); SetField(f, "model.height", 512); }, Expect.Invalid));
        list.Add(new("huge: in_channels 64, n_cfeat 65536", f => { SetField(f, "model.in_channels", 64); SetField(f, "model.n_cfeat", 65536); }, Expect.Invalid));
        list.Add(new("huge: height 1000", f => SetField(f, "model.height", 1000), Expect.Invalid));
        list.Add(new("huge: n_feat 2048", f => SetField(f, "model.n_feat", 2048), Expect.Invalid));
        list.Add(new("huge: num_train_timesteps 2^31-1", f => SetField(f, "scheduler.num_train_timesteps", int.MaxValue), Expect.Invalid));
        list.Add(new("huge: steps_offset 2^31-1", f => SetField(f, "scheduler.steps_offset", int.MaxValue), Expect.Invalid));

        // 6. config.json bytes: truncations, bit flips, invalid UTF-8, BOM, size, nesting.
        foreach (var fraction in new[] { 0.0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.65, 0.8, 0.95, 0.99 })
        {
            list.Add(new($"config truncated to {fraction:P0}", f => Truncate(Path.Combine(f, config), fraction), Expect.Invalid));
        }

        for (int i = 0; i < 30; i++)
        {
            int at = random.Next(1_000_000), bit = random.Next(8);
            list.Add(new($"config bit flip #{i}", f => FlipBit(Path.Combine(f, config), at, bit), Expect.LoadsOrInvalid));
        }

        list.Add(new("config invalid UTF-8 in a string", f => ReplaceBytes(Path.Combine(f, config), "\"ContextUnet\""u8.ToArray(), [0x22, 0xC3, 0x28, 0xFF, 0x22]), Expect.Invalid));
        list.Add(new("config invalid UTF-8 at the start", f => File.WriteAllBytes(Path.Combine(f, config), [0xFE, 0xFF, .. File.ReadAllBytes(Path.Combine(f, config))]), Expect.Invalid));
        list.Add(new("config with a UTF-8 BOM", f => File.WriteAllBytes(Path.Combine(f, config), [0xEF, 0xBB, 0xBF, .. File.ReadAllBytes(Path.Combine(f, config))]), Expect.LoadsOrInvalid));
        list.Add(new("config empty", f => File.WriteAllBytes(Path.Combine(f, config), []), Expect.Invalid));
        list.Add(new("config 2 MiB of spaces", f => File.AppendAllText(Path.Combine(f, config), new string(' ', 2 << 20)), Expect.Invalid));
        list.Add(new("config deeply nested", f => File.WriteAllText(Path.Combine(f, config), new string('[', 10_000) + new string(']', 10_000)), Expect.Invalid));
        list.Add(new("config is JSON null", f => File.WriteAllText(Path.Combine(f, config), "null"), Expect.Invalid));
        list.Add(new("config is a JSON array", f => File.WriteAllText(Path.Combine(f, config), "[1, 2]"), Expect.Invalid));
        list.Add(new("config duplicated object", f => File.WriteAllText(Path.Combine(f, config), File.ReadAllText(Path.Combine(f, config)) + "{}"), Expect.Invalid));

        // 7. model.safetensors bytes.
        foreach (var fraction in new[] { 0.0, 0.001, 0.01, 0.05, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.9999 })
        {
            list.Add(new($"weights truncated to {fraction:P2}", f => Truncate(Path.Combine(f, weights), fraction), Expect.Invalid));
        }

        for (int i = 0; i < 40; i++)
        {
            int at = 8 + random.Next(4000), bit = random.Next(8);
            list.Add(new($"weights header bit flip #{i}", f => FlipHeaderBit(Path.Combine(f, weights), at, bit), Expect.LoadsOrInvalid));
        }

        for (int i = 0; i < 10; i++)
        {
            int at = random.Next(1_000_000), bit = random.Next(8);
            list.Add(new($"weights data bit flip #{i}", f => FlipDataBit(Path.Combine(f, weights), at, bit), Expect.Invalid)); // the content digest
        }

        foreach (var (name, length) in new[] { ("2^64-1", ulong.MaxValue), ("2^40", 1UL << 40), ("0", 0UL), ("100 MB + 1", 100_000_001UL) })
        {
            list.Add(new($"weights header length {name}", f => SetHeaderLength(Path.Combine(f, weights), length), Expect.Invalid));
        }

        list.Add(new("weights header length + 1", f => AdjustHeaderLength(Path.Combine(f, weights), +1), Expect.Invalid));
        list.Add(new("weights header length - 1", f => AdjustHeaderLength(Path.Combine(f, weights), -1), Expect.Invalid));
        foreach (var dtype in new[] { "I32", "F64", "BF16", "U8", "F8_E4M3", "f32" })
        {
            list.Add(new($"weights dtype F32 -> {dtype} in the header", f => ReplaceHeader(Path.Combine(f, weights), "\"F32\"", $"\"{dtype}\"", all: false), Expect.Invalid));
        }

        list.Add(new("weights header invalid UTF-8", f => ReplaceBytes(Path.Combine(f, weights), "\"format\""u8.ToArray(), [0x22, 0xC3, 0x28, 0xFF, 0xFE, 0x41, 0x42, 0x22]), Expect.Invalid));
        list.Add(new("weights header starts with a space", f => ReplaceBytes(Path.Combine(f, weights), "{"u8.ToArray(), " "u8.ToArray()), Expect.Invalid));
        list.Add(new("weights two same-shape tensors swapped", f => SwapOffsets(Path.Combine(f, weights), "out.1.weight", "out.1.bias"), Expect.Invalid)); // the content digest
        list.Add(new("weights digest removed, two same-shape tensors swapped (undetectable)", f => { RemoveDigest(Path.Combine(f, weights)); SwapOffsets(Path.Combine(f, weights), "out.1.weight", "out.1.bias"); }, Expect.LoadsOrInvalid));
        list.Add(new("weights digest altered", f => ReplaceHeader(Path.Combine(f, weights), "\"v1:", "\"v1:0", all: false), Expect.Invalid));
        list.Add(new("weights NaN in a tensor", f => EditTensors(Path.Combine(f, weights), t => t["out.0.weight"].fill_(double.NaN)), Expect.Invalid));
        list.Add(new("weights +Inf in a tensor", f => EditTensors(Path.Combine(f, weights), t => t["init_conv.conv1.0.bias"][0].fill_(double.PositiveInfinity)), Expect.Invalid));
        list.Add(new("weights -Inf in a BatchNorm buffer", f => EditTensors(Path.Combine(f, weights), t => t["down1.model.0.conv1.1.running_var"][1].fill_(double.NegativeInfinity)), Expect.Invalid));
        list.Add(new("weights missing a tensor", f => EditTensors(Path.Combine(f, weights), t => { t["out.3.bias"].Dispose(); t.Remove("out.3.bias"); }), Expect.Invalid));
        list.Add(new("weights extra tensor", f => EditTensors(Path.Combine(f, weights), t => t["extra.weight"] = zeros(3)), Expect.Invalid));
        list.Add(new("weights tensor of the wrong shape", f => EditTensors(Path.Combine(f, weights), t => { t["out.3.bias"].Dispose(); t["out.3.bias"] = zeros(4); }), Expect.Invalid));
        list.Add(new("weights num_batches_tracked as F32", f => EditTensors(Path.Combine(f, weights), t => t["out.3.bias"] = t["out.3.bias"], retype: ("init_conv.conv1.1.num_batches_tracked", ScalarType.Float32)), Expect.Invalid));
        list.Add(new("weights in bfloat16 (valid)", f => EditTensors(Path.Combine(f, weights), t => { }, allFloatTo: ScalarType.BFloat16), Expect.LoadsOrInvalid));
        list.Add(new("weights empty", f => File.WriteAllBytes(Path.Combine(f, weights), []), Expect.Invalid));
        list.Add(new("weights empty header object", f => File.WriteAllBytes(Path.Combine(f, weights), [2, 0, 0, 0, 0, 0, 0, 0, (byte)'{', (byte)'}']), Expect.Invalid));

        // 8. Special files and folders.
        foreach (var file in new[] { config, weights })
        {
            list.Add(new($"{file} is a directory", f => { File.Delete(Path.Combine(f, file)); Directory.CreateDirectory(Path.Combine(f, file)); }, Expect.Invalid));
            list.Add(new($"{file} is a link to /dev/zero", f => { File.Delete(Path.Combine(f, file)); File.CreateSymbolicLink(Path.Combine(f, file), "/dev/zero"); }, Expect.Invalid));
            list.Add(new($"{file} is a link to /dev/null", f => { File.Delete(Path.Combine(f, file)); File.CreateSymbolicLink(Path.Combine(f, file), "/dev/null"); }, Expect.Invalid));
            list.Add(new($"{file} is a FIFO", f => { File.Delete(Path.Combine(f, file)); MakeFifo(Path.Combine(f, file)); }, Expect.Invalid));
            list.Add(new($"{file} is a dangling link", f => { File.Delete(Path.Combine(f, file)); File.CreateSymbolicLink(Path.Combine(f, file), Path.Combine(f, "nowhere")); }, Expect.Missing));
            list.Add(new($"{file} is missing", f => File.Delete(Path.Combine(f, file)), Expect.Missing));
            list.Add(new($"{file} is a link to a regular file (valid)", f =>
            {
                File.Move(Path.Combine(f, file), Path.Combine(f, file + ".real"));
                File.CreateSymbolicLink(Path.Combine(f, file), Path.Combine(f, file + ".real"));
            }, Expect.LoadsOrInvalid));
        }

        list.Add(new("config is a link to the directory itself", f => { File.Delete(Path.Combine(f, config)); File.CreateSymbolicLink(Path.Combine(f, config), f); }, Expect.Invalid));
        list.Add(new("config and weights swapped", f =>
        {
            File.Move(Path.Combine(f, config), Path.Combine(f, "tmp"));
            File.Move(Path.Combine(f, weights), Path.Combine(f, config));
            File.Move(Path.Combine(f, "tmp"), Path.Combine(f, weights));
        }, Expect.Invalid));
        list.Add(new("folder is empty", f => { foreach (var file in Directory.GetFiles(f)) { File.Delete(file); } }, Expect.Missing));
        return list;
    }

    private static string Show(JsonNode? value) => value is null ? "null" : value.ToJsonString();

    private static void SetField(string folder, string path, JsonNode? value) => EditConfig(folder, root =>
    {
        var (parent, key) = Locate(root, path);
        parent[key] = value?.DeepClone();
    });

    private static void RemoveField(string folder, string path) => EditConfig(folder, root =>
    {
        var (parent, key) = Locate(root, path);
        parent.Remove(key);
    });

    private static (JsonObject Parent, string Key) Locate(JsonObject root, string path)
    {
        var parts = path.Split('.');
        var node = root;
        foreach (var part in parts[..^1])
        {
            node = node[part]!.AsObject();
        }

        return (node, parts[^1]);
    }

    private static void EditConfig(string folder, Action<JsonObject> edit)
    {
        var path = Path.Combine(folder, DiffusionCheckpoint.ConfigFileName);
        var root = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(root);
        File.WriteAllText(path, root.ToJsonString());
    }

    private static void Truncate(string path, double fraction)
    {
        var bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(int)(bytes.Length * fraction)]);
    }

    private static void FlipBit(string path, int at, int bit)
    {
        var bytes = File.ReadAllBytes(path);
        bytes[at % bytes.Length] ^= (byte)(1 << bit);
        File.WriteAllBytes(path, bytes);
    }

    private static void FlipHeaderBit(string path, int at, int bit)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        bytes[8 + ((at - 8) % headerLength)] ^= (byte)(1 << bit);
        File.WriteAllBytes(path, bytes);
    }

    private static void FlipDataBit(string path, int at, int bit)
    {
        var bytes = File.ReadAllBytes(path);
        int dataStart = 8 + (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        bytes[dataStart + (at % (bytes.Length - dataStart))] ^= (byte)(1 << bit);
        File.WriteAllBytes(path, bytes);
    }

    private static void SetHeaderLength(string path, ulong length)
    {
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, length);
        File.WriteAllBytes(path, bytes);
    }

    private static void AdjustHeaderLength(string path, int delta)
    {
        var bytes = File.ReadAllBytes(path);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)((long)BinaryPrimitives.ReadUInt64LittleEndian(bytes) + delta));
        File.WriteAllBytes(path, bytes);
    }

    private static void ReplaceBytes(string path, byte[] find, byte[] replacement)
    {
        var bytes = File.ReadAllBytes(path);
        int at = bytes.AsSpan().IndexOf(find);
        if (at < 0)
        {
            throw new InvalidOperationException($"Corpus generator: '{Encoding.UTF8.GetString(find)}' not found in {path}.");
        }

        // Same length keeps the safetensors header length valid: pad or cut the replacement.
        var patch = new byte[find.Length];
        Array.Fill(patch, (byte)' ');
        replacement.AsSpan(0, Math.Min(replacement.Length, find.Length)).CopyTo(patch);
        patch.CopyTo(bytes, at);
        File.WriteAllBytes(path, bytes);
    }

    private static (JsonObject Header, byte[] Data) SplitWeights(string path)
    {
        var bytes = File.ReadAllBytes(path);
        int headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = JsonNode.Parse(bytes.AsSpan(8, headerLength))!.AsObject();
        return (header, bytes[(8 + headerLength)..]);
    }

    private static void JoinWeights(string path, JsonObject header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        var padded = (json.Length + 7) / 8 * 8;
        var result = new byte[8 + padded + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)padded);
        result.AsSpan(8, padded).Fill((byte)' ');
        json.CopyTo(result, 8);
        data.CopyTo(result, 8 + padded);
        File.WriteAllBytes(path, result);
    }

    private static void ReplaceHeader(string path, string find, string replacement, bool all)
    {
        var (header, data) = SplitWeights(path);
        var text = header.ToJsonString();
        int at = text.IndexOf(find, StringComparison.Ordinal);
        text = all ? text.Replace(find, replacement, StringComparison.Ordinal) : text[..at] + replacement + text[(at + find.Length)..];
        JoinWeights(path, JsonNode.Parse(text)!.AsObject(), data);
    }

    private static void RemoveDigest(string path)
    {
        var (header, data) = SplitWeights(path);
        header[SafeTensorsFile.MetadataKey]!.AsObject().Remove(SafeTensorsFile.DigestMetadataKey);
        JoinWeights(path, header, data);
    }

    private static void SwapOffsets(string path, string first, string second)
    {
        var (header, data) = SplitWeights(path);
        var a = header[first]!["data_offsets"]!.DeepClone();
        header[first]!["data_offsets"] = header[second]!["data_offsets"]!.DeepClone();
        header[second]!["data_offsets"] = a;
        JoinWeights(path, header, data);
    }

    private static void EditTensors(string path, Action<Dictionary<string, Tensor>> edit, (string Name, ScalarType Type)? retype = null, ScalarType? allFloatTo = null)
    {
        using var scope = NewDisposeScope();
        var tensors = SafeTensorsFile.Read(path);
        using (no_grad())
        {
            edit(tensors);
        }

        if (retype is { } r)
        {
            tensors[r.Name] = tensors[r.Name].to_type(r.Type);
        }

        if (allFloatTo is { } type)
        {
            foreach (var name in tensors.Keys.ToList())
            {
                if (tensors[name].is_floating_point())
                {
                    tensors[name] = tensors[name].to_type(type);
                }
            }
        }

        SafeTensorsFile.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt" });
    }

    private static void MakeFifo(string path)
    {
        using var process = Process.Start(new ProcessStartInfo("mkfifo", [path]) { UseShellExecute = false })!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"mkfifo {path} failed with {process.ExitCode}.");
        }
    }
}
