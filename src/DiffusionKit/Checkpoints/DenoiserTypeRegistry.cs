using DiffusionKit.Models;

namespace DiffusionKit.Checkpoints;

/// <summary>The denoiser types a checkpoint loader knows: the built-in ones (<see cref="DenoiserType.BuiltIn"/>) and the registered ones, by <c>model.type</c>.</summary>
internal sealed class DenoiserTypeRegistry
{
    private readonly Dictionary<string, DenoiserType> _types = DenoiserType.BuiltIn.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>The registry of the built-in types alone.</summary>
    public static DenoiserTypeRegistry BuiltIn { get; } = new([]);

    /// <summary>Creates a registry of the built-in types and <paramref name="registered"/>.</summary>
    /// <param name="registered">More types; the same instance twice is one registration.</param>
    /// <exception cref="ArgumentException">When a type is null or two different types share a name (the built-in ones included).</exception>
    public DenoiserTypeRegistry(IEnumerable<DenoiserType> registered)
    {
        foreach (var type in registered)
        {
            if (type is null)
            {
                throw new ArgumentException("denoiserTypes holds a null entry.", "denoiserTypes");
            }

            if (_types.TryGetValue(type.Name, out var existing) && !ReferenceEquals(existing, type))
            {
                throw new ArgumentException($"Two denoiser types are named '{type.Name}' ({existing.GetType().Name} and {type.GetType().Name}); model.type names one type, so register only one of them.", "denoiserTypes");
            }

            _types[type.Name] = type;
        }
    }

    /// <summary>The registered names, built-in first, then in order.</summary>
    public string Names => string.Join(", ", _types.Keys);

    /// <summary>The type <paramref name="name"/> names.</summary>
    /// <param name="name">The <c>model.type</c> value.</param>
    /// <param name="path">The config file, for messages.</param>
    /// <exception cref="InvalidDataException">When no registered type has that name; the message names the field, the type, the registered types and how to register one.</exception>
    public DenoiserType Resolve(string? name, string path)
    {
        if (name is not null && _types.TryGetValue(name, out var type))
        {
            return type;
        }

        throw new InvalidDataException(
            $"'{path}': field 'model.type' is '{name}', which is not a registered denoiser type; registered types: {Names}. "
            + "A checkpoint of another network loads once its DenoiserType is registered: DiffusionPipelineBuilder.UseDenoiserType(...), "
            + "services.AddDiffusionKitDenoiserType(...) in a host, or the denoiserTypes argument of DiffusionCheckpoint.Load/Validate/ReadConfig.");
    }
}
