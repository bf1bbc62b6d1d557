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

    /// <summary>The native library next to the app was patched in place (atomically); only with <c>DIFFUSIONKIT_NATIVE_FIX=in-place</c>.</summary>
    PatchedInPlace,

    /// <summary>A patched copy in the user's local application-data folder is loaded; only with <c>DIFFUSIONKIT_NATIVE_FIX=copy</c>.</summary>
    PatchedCopy,

    /// <summary>No <c>libLibTorchSharp.so</c> was found next to the app; TorchSharp's own loader will report what is missing.</summary>
    LibraryNotFound,

    /// <summary>
    /// The default when the fix is needed: the patched image is loaded from an anonymous in-memory file
    /// (<c>memfd_create</c>); nothing is written to any disk, so a read-only app folder works unchanged.
    /// </summary>
    PatchedInMemory,
}
