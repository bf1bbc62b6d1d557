namespace DiffusionKit.Native;

/// <summary>What <see cref="TorchSharpNativeCompatibility.EnsureLoadable"/> found and did.</summary>
public enum NativeFixOutcome
{
    /// <summary>Nothing to do: not Linux, or the system's libstdc++ provides every version TorchSharp asks for.</summary>
    NotNeeded,

    /// <summary>The fix was turned off (environment variable or AppContext switch); nothing was checked or changed.</summary>
    Disabled,

    /// <summary>The native library was already patched (for example by an earlier run).</summary>
    AlreadyPatched,

    /// <summary>The native library next to the app was patched in place (atomically).</summary>
    PatchedInPlace,

    /// <summary>The app folder was read-only: a patched copy in the user cache folder is loaded instead.</summary>
    PatchedCopy,

    /// <summary>No <c>libLibTorchSharp.so</c> was found next to the app; TorchSharp's own loader will report what is missing.</summary>
    LibraryNotFound,
}
