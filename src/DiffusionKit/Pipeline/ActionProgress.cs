namespace DiffusionKit.Pipeline;

/// <summary>An <see cref="IProgress{T}"/> that runs a callback on the reporting thread (unlike <see cref="Progress{T}"/>, which posts).</summary>
internal sealed class ActionProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc />
    public void Report(T value) => report(value);
}
