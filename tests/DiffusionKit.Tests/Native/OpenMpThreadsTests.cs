using DiffusionKit.Native;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Native;

/// <summary>One-off libtorch work runs on a thread that ends with it; results and exceptions come back unchanged.</summary>
public sealed class OpenMpThreadsTests
{
    [Fact]
    public void Work_runs_on_another_thread_that_has_ended_when_the_result_comes_back()
    {
        Thread? worker = null;

        int result = OpenMpThreads.RunOnTransientThread(() =>
        {
            worker = Thread.CurrentThread;
            return 42;
        });

        result.Should().Be(42);
        worker.Should().NotBeNull().And.NotBeSameAs(Thread.CurrentThread);
        worker!.IsAlive.Should().BeFalse("the thread, and with it its OpenMP pool, is gone");
    }

    [Fact]
    public void Nested_work_runs_inline_on_the_outer_transient_thread()
    {
        var (outer, inner) = OpenMpThreads.RunOnTransientThread(() =>
            (Environment.CurrentManagedThreadId, OpenMpThreads.RunOnTransientThread(() => Environment.CurrentManagedThreadId)));

        inner.Should().Be(outer);
        outer.Should().NotBe(Environment.CurrentManagedThreadId);
    }

    [Fact]
    public void An_exception_comes_back_with_its_type_message_and_original_stack()
    {
        var act = () => OpenMpThreads.RunOnTransientThread<int>(() => ThrowFromHere());

        act.Should().Throw<InvalidDataException>().WithMessage("bad file").Where(e => e.StackTrace!.Contains(nameof(ThrowFromHere)));
    }

    [Fact]
    public void Null_work_is_refused_before_any_thread_starts()
    {
        var act = () => OpenMpThreads.RunOnTransientThread<int>(null!);

        act.Should().Throw<ArgumentNullException>().WithParameterName("work");
    }

    private static int ThrowFromHere() => throw new InvalidDataException("bad file");
}
