using Xunit;

namespace DiffusionKit.Tests.Interop;

/// <summary>
/// A fact that runs the PyTorch trainer in <c>python/</c> with Debian's Python (<see cref="PythonProcess.Interpreter"/>)
/// and its PyTorch, numpy and Pillow. Skipped, saying so, only where they are not installed; CI installs them in
/// <c>.ci/run</c> (apt: python3-torch python3-numpy python3-pil), so there it always runs.
/// </summary>
public sealed class PyTorchFactAttribute : FactAttribute
{
    public PyTorchFactAttribute()
    {
        if (!PythonProcess.HasPyTorch)
        {
            Skip = $"{PythonProcess.Interpreter} with torch, numpy and PIL is not installed: run 'apt-get install -y --no-install-recommends python3-torch python3-numpy python3-pil' (CI's .ci/run does).";
        }
    }
}
