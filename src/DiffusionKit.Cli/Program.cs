using DiffusionKit.Native;
using TorchSharp;

Console.WriteLine(TorchSharpNativeCompatibility.EnsureLoadable());
Console.WriteLine(torch.ones(3).sum().item<float>());
