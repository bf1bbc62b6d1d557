using System.Runtime.InteropServices;
using TorchSharp;

namespace DiffusionKit.Native;

/// <summary>
/// What a kernel warning says about the machine: the CPU model, family and the instruction-set flags oneDNN chooses
/// kernels by, and the libtorch and oneDNN versions.
/// </summary>
internal static class CpuDescription
{
    private static readonly string[] KernelFlags = { "avx2", "avx512f", "avx512_bf16", "avx512_fp16", "avx512_vnni", "avx_vnni", "amx_tile", "amx_bf16", "avx512_vp2intersect" };

    private static readonly Lazy<string> SummaryValue = new(ReadSummary);

    private static readonly Lazy<string> LibrariesValue = new(ReadLibraries);

    /// <summary>"model name (family F), flags: …", from /proc/cpuinfo where it exists, else the OS's architecture.</summary>
    internal static string Summary => SummaryValue.Value;

    /// <summary>"libtorch X, oneDNN Y, ONEDNN_MAX_CPU_ISA=…".</summary>
    internal static string Libraries => LibrariesValue.Value;

    private static string ReadSummary()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var lines = File.ReadLines("/proc/cpuinfo").TakeWhile(l => l.Length > 0).ToList();
                string Field(string name) => lines.FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
                var flags = Field("flags").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                return $"{Field("model name")} (family {Field("cpu family")}, {Environment.ProcessorCount} cores), flags: {string.Join(' ', KernelFlags.Where(flags.Contains))}";
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return $"{RuntimeInformation.ProcessArchitecture} ({Environment.ProcessorCount} cores)";
    }

    private static string ReadLibraries()
    {
        string isa = Environment.GetEnvironmentVariable("ONEDNN_MAX_CPU_ISA") ?? "unset";
        return $"libtorch {torch.__version__}, oneDNN {OneDnnVersion() ?? "?"}, ONEDNN_MAX_CPU_ISA={isa}";
    }

    /// <summary>oneDNN's version from libtorch's <c>at::get_mkldnn_version()</c> (a C++ std::string returned by value), or null.</summary>
    private static string? OneDnnVersion()
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            return null;
        }

        try
        {
            // libstdc++'s std::string (C++11 ABI) is 32 bytes: data pointer, length, 16-byte local buffer. The callee
            // constructs it in the caller's memory; a heap buffer (over 15 characters) is left unreleased, once per process.
            IntPtr buffer = Marshal.AllocHGlobal(32);
            try
            {
                GetMkldnnVersion(buffer);
                IntPtr data = Marshal.ReadIntPtr(buffer);
                long length = Marshal.ReadInt64(buffer, 8);
                return length is > 0 and < 256 ? Marshal.PtrToStringAnsi(data, (int)length) : null;
            }
            finally
            {
                Marshal.FreeHGlobal(buffer);
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [DllImport("torch_cpu", EntryPoint = "_ZN2at18get_mkldnn_versionB5cxx11Ev")]
    private static extern void GetMkldnnVersion(IntPtr result);
}
