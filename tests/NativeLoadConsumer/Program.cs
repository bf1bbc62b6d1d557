using DiffusionKit.Native;
using TorchSharp;

// Touch DiffusionKit first (as a consumer app does), then TorchSharp.
var outcome = TorchSharpNativeCompatibility.EnsureLoadable();
Console.Write($"outcome={outcome} ");
Console.Out.Flush();
using var sum = torch.arange(1, 5, dtype: torch.float32).sum();
Console.WriteLine($"sum={sum.item<float>()}");
