using System.Text.Json;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;

namespace DiffusionKit.Tests.TestDoubles;

/// <summary>
/// <c>model.type</c> <c>TinyConvNet</c>: the checkpoint section of <see cref="TinyConvDenoiser"/>, with the bounds and
/// strict field checks a registered type owes the loader (fields <c>channels</c> 1..4, <c>image_size</c> 4..64,
/// <c>context_size</c> 1..1024, <c>hidden</c> 8..256, a multiple of 8).
/// </summary>
internal sealed class TinyConvDenoiserType : DenoiserType
{
    public const string TypeName = "TinyConvNet";

    private static readonly (string Field, int Min, int Max)[] Fields = [("channels", 1, 4), ("image_size", 4, 64), ("context_size", 1, 1024), ("hidden", 8, 256)];

    private TinyConvDenoiserType()
        : base(TypeName)
    {
    }

    public static TinyConvDenoiserType Instance { get; } = new();

    public static CheckpointConfig.ModelConfig Describe(TinyConvDenoiser model) => new()
    {
        Type = TypeName,
        Settings = new Dictionary<string, JsonElement>
        {
            ["channels"] = JsonSerializer.SerializeToElement(model.Channels),
            ["image_size"] = JsonSerializer.SerializeToElement(model.ImageSize),
            ["context_size"] = JsonSerializer.SerializeToElement(model.ContextSize),
            ["hidden"] = JsonSerializer.SerializeToElement(model.Hidden),
        },
    };

    public override DenoiserShape Validate(CheckpointConfig.ModelConfig section)
    {
        var v = Read(section);
        return new DenoiserShape(v[0], v[1], v[2]);
    }

    public override IReadOnlyList<WeightSpec> ExpectedWeights(CheckpointConfig.ModelConfig section)
    {
        var v = Read(section);
        long ctx = v[2], h = v[3];
        return
        [
            new("conv_in.weight", [h, v[0], 3, 3], false), new("conv_in.bias", [h], false),
            new("embed.weight", [h, ctx + 1], false), new("embed.bias", [h], false),
            new("conv_mid.weight", [h, h, 3, 3], false), new("conv_mid.bias", [h], false),
            new("conv_out.weight", [v[0], h, 3, 3], false), new("conv_out.bias", [v[0]], false),
        ];
    }

    public override DenoiserModule Create(CheckpointConfig.ModelConfig section)
    {
        var v = Read(section);
        return new TinyConvDenoiser(v[0], v[1], v[2], v[3], seed: null);
    }

    private static int[] Read(CheckpointConfig.ModelConfig section)
    {
        if (section.Settings.Keys.FirstOrDefault(k => !Fields.Any(f => f.Field == k)) is { } unknown)
        {
            throw new InvalidDataException($"field 'model.{unknown}' is not a field of a {TypeName} model.");
        }

        return Fields.Select(f =>
        {
            if (!section.Settings.TryGetValue(f.Field, out var value) || value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out int n))
            {
                throw new InvalidDataException($"field 'model.{f.Field}' must be an integer.");
            }

            return n >= f.Min && n <= f.Max && (f.Field != "hidden" || n % TinyConvDenoiser.HiddenMultiple == 0) ? n
                : throw new InvalidDataException($"field 'model.{f.Field}' is {n}; it must be in {f.Min}..{f.Max}{(f.Field == "hidden" ? $", a multiple of {TinyConvDenoiser.HiddenMultiple}" : string.Empty)}.");
        }).ToArray();
    }
}
