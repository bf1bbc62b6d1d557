using DiffusionKit.Models;
using DiffusionKit.Native;
using DiffusionKit.Pipeline;

// The README's first calls, in an app without a TorchSharp backend. Exit code: 3 when both failed with DiffusionKit's
// exception, 1 when either succeeded or failed another way.
int caught = 0;
try
{
    using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ContextSize = 4 }, seed: 0);
    Console.WriteLine("model: built");
}
catch (TorchSharpNativeLoadException ex)
{
    Console.WriteLine($"model: {ex.Message}");
    caught++;
}

try
{
    using var pipeline = new DiffusionPipelineBuilder().UseVocabulary("red").Build();
    Console.WriteLine("pipeline: built");
}
catch (TorchSharpNativeLoadException ex)
{
    Console.WriteLine($"pipeline: {ex.Message}");
    caught++;
}

return caught == 2 ? 3 : 1;
