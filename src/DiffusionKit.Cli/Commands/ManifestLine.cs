using System.Text.Json.Serialization;

namespace DiffusionKit.Cli.Commands;

/// <summary>One line of manifest.jsonl. <c>caption</c> is present only when the prompt was reworded (<c>sample --reword</c>):
/// it is the shapes caption the image is judged against.</summary>
internal sealed record ManifestLine(
    [property: JsonPropertyName("file")] string File,
    [property: JsonPropertyName("prompt")] string Prompt,
    [property: JsonPropertyName("seed")] long Seed,
    [property: JsonPropertyName("caption"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Caption = null);
