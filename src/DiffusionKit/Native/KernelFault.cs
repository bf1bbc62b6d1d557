namespace DiffusionKit.Native;

/// <summary>What the test fault injector (<see cref="KernelRouting.FaultInjector"/>) does to a convolution's output.</summary>
internal enum KernelFault
{
    /// <summary>Leaves the output alone.</summary>
    None,

    /// <summary>Turns the output into NaN, as the faulty kernels do.</summary>
    NonFinite,

    /// <summary>Scales the output by 1.5: finite but wrong, as the faulty kernels also are.</summary>
    Wrong,
}
