using System.Text.Json.Serialization;

namespace DiffusionKit.Cli.Commands;

/// <summary>One line of manifest.jsonl.</summary>
internal sealed record ManifestLine(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("seed")] long Seed);
