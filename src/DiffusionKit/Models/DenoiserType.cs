using DiffusionKit.Checkpoints;

namespace DiffusionKit.Models;

/// <summary>
/// One kind of denoising network a checkpoint can hold, named by <c>config.json</c>'s <c>model.type</c>: it checks that
/// type's <c>model</c> section, says which weights <c>model.safetensors</c> must hold, and builds the network.
/// <see cref="ContextUnetType"/> and <see cref="AttentionUnetType"/> are built in (<see cref="BuiltIn"/>); register others with
/// <see cref="Pipeline.DiffusionPipelineBuilder.UseDenoiserType"/>, <c>services.AddDiffusionKitDenoiserType(...)</c> or
/// the <c>denoiserTypes</c> argument of <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?, IEnumerable{DenoiserType})"/>.
/// </summary>
/// <remarks>
/// Checkpoints are untrusted input (docs/checkpoints.md, "Limits and errors"), and the loader relies on the type for
/// its part: <see cref="Validate"/> must refuse unknown, missing and ill-typed fields and bound every size so that a
/// small file cannot declare a huge network, allocating nothing; <see cref="ExpectedWeights"/> must list exactly the
/// network's <c>state_dict</c>, computed from the section alone. The loader then checks the weights file's size and
/// header against that list before it calls <see cref="Create"/>. Implementations must be thread-safe (they hold no
/// state).
/// </remarks>
public abstract class DenoiserType
{
    /// <summary>Creates the type.</summary>
    /// <param name="name">The <c>model.type</c> value (case-sensitive), for example <c>ContextUnet</c>.</param>
    /// <exception cref="ArgumentException">When <paramref name="name"/> is null, empty or white space.</exception>
    protected DenoiserType(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
    }

    /// <summary>
    /// The types every checkpoint loader knows without registration: <see cref="ContextUnetType"/> (the course's context
    /// U-Net) and <see cref="AttentionUnetType"/> (the U-Net with self- and cross-attention).
    /// </summary>
    public static IReadOnlyList<DenoiserType> BuiltIn => [ContextUnetType.Instance, AttentionUnetType.Instance];

    /// <summary>The <c>model.type</c> value this type loads.</summary>
    public string Name { get; }

    /// <summary>
    /// Checks a <c>model</c> section of this type without allocating anything: every field known, every required field
    /// present with the right JSON type, every size within this type's bounds.
    /// </summary>
    /// <param name="section">The section (its <see cref="CheckpointConfig.ModelConfig.Type"/> is <see cref="Name"/>).</param>
    /// <returns>The sizes it declares.</returns>
    /// <exception cref="InvalidDataException">When the section is invalid; the message names the field as <c>field 'model.&lt;name&gt;'</c> (the loader prefixes the file).</exception>
    public abstract DenoiserShape Validate(CheckpointConfig.ModelConfig section);

    /// <summary>The <c>state_dict</c> names, shapes and kinds the network of a validated section has, computed from the section alone.</summary>
    /// <param name="section">A section <see cref="Validate"/> accepted.</param>
    /// <returns>Every tensor of the network's <c>state_dict</c>.</returns>
    public abstract IReadOnlyList<WeightSpec> ExpectedWeights(CheckpointConfig.ModelConfig section);

    /// <summary>
    /// Builds the network of a validated section, on the CPU in float32. Its weights need not be initialised: every one
    /// is overwritten next (from <c>model.safetensors</c>, or a training snapshot).
    /// </summary>
    /// <param name="section">A section <see cref="Validate"/> accepted.</param>
    /// <returns>A new network owned by the caller, whose <see cref="DenoiserModule.DenoiserType"/> is this type.</returns>
    public abstract DenoiserModule Create(CheckpointConfig.ModelConfig section);
}
