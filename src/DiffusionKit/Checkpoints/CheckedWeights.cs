namespace DiffusionKit.Checkpoints;

/// <summary>
/// A checkpoint weights file opened for loading after the checks that need no tensor: it is a regular file, large
/// enough for the tensors the config implies, and its safetensors header lists exactly those names, shapes and dtypes.
/// Both <see cref="DiffusionCheckpoint.Validate(string)"/> and <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/> open weights through it.
/// </summary>
/// <param name="Stream">The open file, positioned anywhere (tensors are read by offset).</param>
/// <param name="Path">The file's path, for messages.</param>
/// <param name="Header">The checked header.</param>
/// <param name="Describe">What the config describes, for messages (e.g. "the model config.json describes (model.n_feat 64, ...)").</param>
internal sealed record CheckedWeights(FileStream Stream, string Path, SafeTensorsHeader Header, string Describe) : IDisposable
{
    /// <summary>Opens and checks <paramref name="path"/>.</summary>
    /// <param name="path">The weights file.</param>
    /// <param name="missingMessage">The message of the <see cref="FileNotFoundException"/> when the file does not exist.</param>
    /// <param name="role">What the file is, for the file-type checks' messages ("the model weights").</param>
    /// <param name="expected">The tensors the config implies.</param>
    /// <param name="describe">What the config describes, for messages.</param>
    /// <returns>The open, checked file; dispose it.</returns>
    /// <exception cref="FileNotFoundException">When the file is missing.</exception>
    /// <exception cref="InvalidDataException">When the file is not a regular file, is too small, or its header does not match <paramref name="expected"/>.</exception>
    public static CheckedWeights Open(string path, string missingMessage, string role, IReadOnlyList<WeightSpec> expected, string describe)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            throw new FileNotFoundException(missingMessage, path);
        }

        var stream = CheckpointFileGuard.OpenRegular(path, long.MaxValue, role);
        try
        {
            CheckpointWeightLayout.CheckSize(path, stream.Length, expected, describe);
            var header = SafeTensorsFile.ReadHeader(stream, path);
            CheckpointWeightLayout.Check(path, header, expected, describe);
            return new CheckedWeights(stream, path, header, describe);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => Stream.Dispose();
}
