using System.Runtime.InteropServices;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Native;

/// <summary>
/// Runs a network's convolutions by the <see cref="KernelRoute"/> in force for their dtype. Every convolution of a
/// DiffusionKit network goes through here (modules through <see cref="Call"/>, functional calls through
/// <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/>), so a route chosen by the kernel check applies to the forward
/// pass and, through autograd, to the backward pass alike.
/// </summary>
/// <remarks>
/// <para>
/// For a <see cref="Models.DenoiserModule"/> of your own: call its convolutions as <c>KernelRouting.Call(conv, x)</c>
/// instead of <c>conv.call(x)</c> (or <c>KernelRouting.Conv2d(x, weight, bias, stride, padding)</c> instead of
/// <c>nn.functional.conv2d</c>). The weights, their names and the results (to float rounding) are unchanged; on a CPU
/// whose kernels the check found faulty, the call then takes the route the check chose. The check itself runs for any
/// <see cref="Models.DenoiserModule"/> (before training, when a pipeline is built and on its first
/// <see cref="Models.DenoiserModule.PredictNoise"/> in a dtype), on the module's own forward pass.
/// </para>
/// <para>
/// Why (hand-written: no library does it): on AMD EPYC Zen 5 (family 26) libtorch 2.10's oneDNN 3.7.1 returns wrong
/// values or NaN from convolutions whose channel counts fill oneDNN's 16-wide blocks only in part (3, 8, 24, 48 ...),
/// forward and backward, fp32 and bf16, one thread or two; zero-padding the channels to a multiple of
/// <see cref="ChannelBlock"/> gave results equal to a float64 reference for every width measured there
/// (docs/benchmarks.md, "Zen 5 kernel faults").
/// </para>
/// <para>The route is process-wide per dtype: the fault belongs to the machine's kernels, not to one model.</para>
/// </remarks>
public static class KernelRouting
{
    /// <summary>The channel multiple of <see cref="KernelRoute.PaddedChannels"/>: 32.</summary>
    public const int ChannelBlock = 32;

    /// <summary>The environment variable that pins a route for every dtype.</summary>
    internal const string PinVariable = "DIFFUSIONKIT_KERNEL_ROUTE";

    private static readonly object Gate = new();
    private static KernelRoute _float32 = KernelRoute.Native;
    private static KernelRoute _bfloat16 = KernelRoute.Native;
    private static bool _oneDnnDisabled;

    /// <summary>Test hook: a fault injector that corrupts convolution outputs in the configurations it names.</summary>
    internal static Func<KernelRoute, ScalarType, KernelFault>? FaultInjector { get; set; }

    /// <summary>The route pinned by <see cref="PinVariable"/>, or null.</summary>
    /// <exception cref="InvalidOperationException">The variable holds an unknown value.</exception>
    internal static KernelRoute? Pinned
    {
        get
        {
            string? value = Environment.GetEnvironmentVariable(PinVariable);
            return string.IsNullOrWhiteSpace(value) ? null : value.Trim().ToLowerInvariant() switch
            {
                "native" => KernelRoute.Native,
                "padded" => KernelRoute.PaddedChannels,
                "reference" => KernelRoute.ReferenceKernels,
                _ => throw new InvalidOperationException($"{PinVariable}='{value}' is not a kernel route; use native, padded or reference, or unset it to let DiffusionKit check the kernels."),
            };
        }
    }

    /// <summary>The route routed convolutions of <paramref name="dtype"/> take now (process-wide; <see cref="KernelRoute.Native"/> until a check finds a fault).</summary>
    /// <param name="dtype">The convolutions' dtype; only float32 and bfloat16 are ever rerouted.</param>
    /// <returns>The route in force.</returns>
    public static KernelRoute RouteFor(ScalarType dtype)
    {
        if (_oneDnnDisabled)
        {
            return KernelRoute.ReferenceKernels;
        }

        return dtype switch
        {
            ScalarType.Float32 => _float32,
            ScalarType.BFloat16 => _bfloat16,
            _ => KernelRoute.Native,
        };
    }

    /// <summary>Sets the route for <paramref name="dtype"/>; <see cref="KernelRoute.ReferenceKernels"/> switches oneDNN off for the process.</summary>
    /// <exception cref="PlatformNotSupportedException">The reference kernels were asked for where oneDNN cannot be switched off.</exception>
    internal static void Use(ScalarType dtype, KernelRoute route)
    {
        lock (Gate)
        {
            if (route == KernelRoute.ReferenceKernels)
            {
                SetOneDnn(enabled: false);
                _oneDnnDisabled = true;
                return;
            }

            if (dtype == ScalarType.Float32)
            {
                _float32 = route;
            }
            else if (dtype == ScalarType.BFloat16)
            {
                _bfloat16 = route;
            }
        }
    }

    /// <summary>Whether this process can switch oneDNN off (libtorch's <c>at::Context::setUserEnabledMkldnn</c> is reachable).</summary>
    internal static bool CanUseReferenceKernels
    {
        get
        {
            try
            {
                _ = GlobalContext();
                return true;
            }
            catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
            {
                return false;
            }
        }
    }

    /// <summary>Test hook: back to the native route for every dtype, oneDNN on.</summary>
    internal static void Reset()
    {
        lock (Gate)
        {
            _float32 = KernelRoute.Native;
            _bfloat16 = KernelRoute.Native;
            if (_oneDnnDisabled)
            {
                SetOneDnn(enabled: true);
                _oneDnnDisabled = false;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="module"/> on <paramref name="input"/>, routing the convolutions inside it: a
    /// <see cref="TorchSharp.Modules.Conv2d"/> or <see cref="ConvTranspose2d"/> takes the route in force, a
    /// <see cref="Sequential"/> runs its children in order this way, and any other module runs as <c>module.call(input)</c>.
    /// </summary>
    /// <param name="module">The module (its weights are used as they are; nothing is copied or renamed).</param>
    /// <param name="input">The input, [B, C, H, W].</param>
    /// <returns>The module's output.</returns>
    public static Tensor Call(nn.Module<Tensor, Tensor> module, Tensor input)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(input);
        switch (module)
        {
            case Sequential sequential:
                using (var scope = NewDisposeScope())
                {
                    var x = input;
                    foreach (var child in sequential.children())
                    {
                        x = Call((nn.Module<Tensor, Tensor>)child, x);
                    }

                    return x.MoveToOuterDisposeScope();
                }

            case TorchSharp.Modules.Conv2d conv:
                return Conv2d(input, conv.weight!, conv.bias, conv.stride, conv.padding ?? new long[] { 0, 0 }, conv.dilation, conv.groups);
            case ConvTranspose2d conv:
                return ConvTranspose2d(input, conv.weight!, conv.bias, conv.stride, conv.padding ?? new long[] { 0, 0 }, conv.output_padding, conv.dilation, conv.groups);
            default:
                return module.call(input);
        }
    }

    /// <summary>A routed 2-D convolution: <c>nn.functional.conv2d</c> with the route in force.</summary>
    /// <param name="input">The input, [B, in, H, W].</param>
    /// <param name="weight">The weight, [out, in / groups, kh, kw].</param>
    /// <param name="bias">The bias, [out], or null.</param>
    /// <param name="stride">The stride (height, width).</param>
    /// <param name="padding">The zero padding (height, width).</param>
    /// <param name="dilation">The dilation, or null for 1.</param>
    /// <param name="groups">The groups (grouped convolutions always take the native route).</param>
    /// <returns>The output, [B, out, H', W'].</returns>
    public static Tensor Conv2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[]? dilation = null, long groups = 1)
        => Routed(input, weight, bias, groups, transposed: false, (x, w, b) => nn.functional.conv2d(x, w, b, stride, padding, dilation, groups));

    /// <summary>A routed 2-D transposed convolution: <c>nn.functional.conv_transpose2d</c> with the route in force.</summary>
    /// <param name="input">The input, [B, in, H, W].</param>
    /// <param name="weight">The weight, [in, out / groups, kh, kw].</param>
    /// <param name="bias">The bias, [out], or null.</param>
    /// <param name="stride">The stride (height, width).</param>
    /// <param name="padding">The padding (height, width).</param>
    /// <param name="outputPadding">The output padding (height, width).</param>
    /// <param name="dilation">The dilation, or null for 1.</param>
    /// <param name="groups">The groups (grouped convolutions always take the native route).</param>
    /// <returns>The output, [B, out, H', W'].</returns>
    public static Tensor ConvTranspose2d(Tensor input, Tensor weight, Tensor? bias, long[] stride, long[] padding, long[] outputPadding, long[]? dilation = null, long groups = 1)
        => Routed(input, weight, bias, groups, transposed: true, (x, w, b) => nn.functional.conv_transpose2d(x, w, b, stride, padding, outputPadding, dilation, groups));

    /// <summary>Runs <paramref name="convolve"/> as the route in force says: as given, or on channels zero-padded to <see cref="ChannelBlock"/> and narrowed back.</summary>
    private static Tensor Routed(Tensor input, Tensor weight, Tensor? bias, long groups, bool transposed, Func<Tensor, Tensor, Tensor?, Tensor> convolve)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var route = RouteFor(input.dtype);
        long inChannels = weight.shape[transposed ? 0 : 1], outChannels = weight.shape[transposed ? 1 : 0];
        if (route != KernelRoute.PaddedChannels || groups != 1 || (inChannels % ChannelBlock == 0 && outChannels % ChannelBlock == 0))
        {
            return Inject(convolve(input, weight, bias), route);
        }

        using var scope = NewDisposeScope();
        long inPad = Pad(inChannels), outPad = Pad(outChannels);
        var x = inPad == 0 ? input : nn.functional.pad(input, new long[] { 0, 0, 0, 0, 0, inPad });
        var w = nn.functional.pad(weight, transposed ? new long[] { 0, 0, 0, 0, 0, outPad, 0, inPad } : new long[] { 0, 0, 0, 0, 0, inPad, 0, outPad });
        var b = bias is null ? null : nn.functional.pad(bias, new long[] { 0, outPad });
        return Inject(convolve(x, w, b).narrow(1, 0, outChannels), route).MoveToOuterDisposeScope();
    }

    private static long Pad(long channels) => ((channels + ChannelBlock - 1) / ChannelBlock * ChannelBlock) - channels;

    private static Tensor Inject(Tensor result, KernelRoute route)
    {
        // The injector stands for faulty oneDNN kernels, which float64 (the reference) never runs.
        var fault = result.dtype == ScalarType.Float64 ? KernelFault.None : FaultInjector?.Invoke(route, result.dtype) ?? KernelFault.None;
        switch (fault)
        {
            case KernelFault.None:
                return result;
            case KernelFault.NonFinite:
                using (var nan = full(1, double.NaN, dtype: result.dtype))
                {
                    return result.add(nan);
                }

            case KernelFault.Wrong:
                return result.mul(1.5);
            default:
                throw new ArgumentOutOfRangeException(nameof(fault), fault, "Unknown kernel fault.");
        }
    }

    private static void SetOneDnn(bool enabled)
    {
        try
        {
            SetUserEnabledMkldnn(GlobalContext(), enabled);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            throw new PlatformNotSupportedException($"DiffusionKit cannot switch oneDNN off in this libtorch ({ex.Message}); set {PinVariable}=padded or run with --threads 1.", ex);
        }
    }

    // libtorch's C++ API (Itanium ABI, as built for Linux): at::globalContext() and at::Context::setUserEnabledMkldnn(bool),
    // the switch behind PyTorch's torch.backends.mkldnn.enabled, which TorchSharp 0.107 does not wrap.
    [DllImport("torch_cpu", EntryPoint = "_ZN2at13globalContextEv")]
    private static extern IntPtr GlobalContext();

    [DllImport("torch_cpu", EntryPoint = "_ZN2at7Context20setUserEnabledMkldnnEb")]
    private static extern void SetUserEnabledMkldnn(IntPtr context, [MarshalAs(UnmanagedType.I1)] bool enabled);
}
