using DiffusionKit.Pipeline;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>The synchronous <see cref="IProgress{T}"/>: every report is handled inline, in order, before Report returns.</summary>
public sealed class ActionProgressTests
{
    [Fact]
    public void Reports_run_inline_on_the_reporting_thread_in_order()
    {
        var seen = new List<(int Value, int Thread)>();
        IProgress<int> progress = new ActionProgress<int>(v => seen.Add((v, Environment.CurrentManagedThreadId)));

        int reporter = 0;
        var thread = new Thread(() =>
        {
            reporter = Environment.CurrentManagedThreadId;
            for (int i = 1; i <= 3; i++)
            {
                progress.Report(i);
                seen.Should().HaveCount(i, "the report is handled before Report returns");
            }
        });
        thread.Start();
        thread.Join();

        seen.Should().Equal((1, reporter), (2, reporter), (3, reporter));
    }

    [Fact]
    public void An_exception_from_the_callback_reaches_the_reporter()
    {
        var progress = new ActionProgress<string>(_ => throw new InvalidOperationException("stop"));

        ((Action)(() => progress.Report("x"))).Should().Throw<InvalidOperationException>().WithMessage("stop");
    }

    [Fact]
    public void A_null_callback_is_refused()
    {
        ((Action)(() => _ = new ActionProgress<int>(null!))).Should().Throw<ArgumentNullException>().WithParameterName("report");
    }
}
