namespace DiffusionKit.Native;

/// <summary>What <see cref="TorchSharpNativeCompatibility.EnsureLoadable"/> found and did.</summary>
public enum NativeFixOutcome
{
    /// <summary>Nothing to do: not Linux, or the system's libstdc++ provides every version TorchSharp asks for.</summary>
    NotNeeded = 0,

    /// <summary>The check was turned off (environment variable or AppContext switch); nothing was checked.</summary>
    Disabled = 1,

    /// <summary>
    /// The system's libstdc++ lacks <c>GLIBCXX_3.4.32</c>, and the app's copy of the native library already has that
    /// requirement weak (DiffusionKit's build step patched it when the app was built or published): it loads as it is.
    /// </summary>
    AlreadyPatched = 2,

    /// <summary>
    /// <c>DIFFUSIONKIT_NATIVE_FIX=copy</c> (opt-in): the app's copy of the native library was not patched, so a patched copy
    /// in the user's local application-data folder is loaded instead; the app folder is not written.
    /// </summary>
    PatchedCopy = 4,

    /// <summary>No <c>libLibTorchSharp.so</c> was found next to the app; TorchSharp's own loader will report what is missing.</summary>
    LibraryNotFound = 5,
}
