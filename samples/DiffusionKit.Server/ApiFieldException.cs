namespace DiffusionKit.Server;

/// <summary>A request field the server could not read (wrong type, unknown name, missing prompt); answered with 400 naming <see cref="Field"/>.</summary>
internal sealed class ApiFieldException(string field, string message) : ArgumentException(message, field)
{
    /// <summary>The API field, for example <c>seed</c>.</summary>
    internal string Field { get; } = field;
}
