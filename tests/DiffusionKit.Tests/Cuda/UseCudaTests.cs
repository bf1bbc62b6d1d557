using DiffusionKit.Cuda;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.Hosting;
using FluentAssertions;
using Microsoft.Extensions.Logging;
using TorchSharp;
using Xunit;

namespace DiffusionKit.Tests.Cuda;

public sealed class UseCudaTests
{
    private static readonly CudaBackend Missing = new(() => false, () => throw new InvalidOperationException("not asked when unavailable"));
    private static readonly CudaBackend TwoGpus = new(() => true, () => 2);

    [Fact]
    public void With_a_backend_the_device_becomes_cuda_N()
    {
        var builder = CudaPipelineBuilderExtensions.UseCudaWith(new DiffusionPipelineBuilder(), o => o.DeviceIndex = 1, TwoGpus);

        builder.Device.type.Should().Be(DeviceType.CUDA);
        builder.Device.index.Should().Be(1);
        builder.Device.ToString().Should().Be("cuda:1");
    }

    [Fact]
    public void Device_index_must_be_a_visible_gpu()
    {
        var act = () => CudaPipelineBuilderExtensions.UseCudaWith(new DiffusionPipelineBuilder(), o => o.DeviceIndex = 2, TwoGpus);

        act.Should().Throw<ArgumentOutOfRangeException>().Where(e => e.ParamName == "DeviceIndex").WithMessage("*0..1*");
    }

    [Fact]
    public void Without_a_backend_it_throws_naming_the_package_to_add()
    {
        var act = () => CudaPipelineBuilderExtensions.UseCudaWith(new DiffusionPipelineBuilder(), null, Missing);

        var message = act.Should().Throw<InvalidOperationException>().Which.Message;
        message.Should().Contain("TorchSharp-cuda-linux").And.Contain("dotnet add package").And.Contain("AllowCpuFallback");
        if (OperatingSystem.IsWindows())
        {
            message.Should().Contain("dotnet add package TorchSharp-cuda-windows");
        }
        else
        {
            message.Should().Contain("dotnet add package TorchSharp-cuda-linux");
        }
    }

    [Fact]
    public void With_fallback_it_uses_the_cpu_and_logs_a_warning()
    {
        var logs = new CapturingLoggerProvider();
        using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
        var builder = new DiffusionPipelineBuilder().UseLoggerFactory(factory);

        CudaPipelineBuilderExtensions.UseCudaWith(builder, o => o.AllowCpuFallback = true, Missing);

        builder.Device.type.Should().Be(DeviceType.CPU);
        logs.Entries.Should().ContainSingle(e => e.Level == LogLevel.Warning).Which.Message.Should().Contain("falling back to the CPU").And.Contain("TorchSharp-cuda");
    }

    [Fact]
    public void The_real_detection_on_this_cpu_only_machine_reports_no_backend()
    {
        if (torch.cuda.is_available())
        {
            return; // Only meaningful where TorchSharp-cpu is the backend, as in this repository's tests.
        }

        var act = () => new DiffusionPipelineBuilder().UseCuda();
        act.Should().Throw<InvalidOperationException>().WithMessage("*TorchSharp-cuda*");
        new DiffusionPipelineBuilder().UseCuda(o => o.AllowCpuFallback = true).Device.type.Should().Be(DeviceType.CPU);
    }
}
