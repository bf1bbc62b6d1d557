namespace DiffusionKit.Cli;

/// <summary>An IProgress that runs the callback on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
internal sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
