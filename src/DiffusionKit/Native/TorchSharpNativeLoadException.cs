namespace DiffusionKit.Native;

/// <summary>TorchSharp's native library cannot be loaded on this system and DiffusionKit cannot fix it; the message says why and what to do.</summary>
public sealed class TorchSharpNativeLoadException : InvalidOperationException
{
    /// <summary>Creates the exception with a message.</summary>
    public TorchSharpNativeLoadException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the underlying cause.</summary>
    public TorchSharpNativeLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
