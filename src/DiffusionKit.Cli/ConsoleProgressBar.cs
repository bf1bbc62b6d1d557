using System.Globalization;

namespace DiffusionKit.Cli;

/// <summary>A one-line progress bar with rate and ETA, redrawn at most 10 times a second (plain lines when output is redirected).</summary>
internal sealed class ConsoleProgressBar
{
    private readonly string _label;
    private readonly bool _interactive = !Console.IsOutputRedirected;
    private DateTime _lastDraw = DateTime.MinValue;
    private int _lastLoggedPercent = -1;

    public ConsoleProgressBar(string label) => _label = label;

    public void Update(double fraction, string details, bool force = false)
    {
        fraction = Math.Clamp(fraction, 0, 1);
        var now = DateTime.UtcNow;
        if (_interactive)
        {
            if (!force && (now - _lastDraw).TotalMilliseconds < 100)
            {
                return;
            }

            _lastDraw = now;
            int width = 30;
            int filled = (int)Math.Round(fraction * width);
            string bar = new string('#', filled) + new string('-', width - filled);
            Console.Write(string.Create(CultureInfo.InvariantCulture, $"\r{_label} [{bar}] {fraction * 100,5:0.0}% {details}   "));
        }
        else
        {
            int percent = (int)(fraction * 100);
            if (force || percent / 10 > _lastLoggedPercent / 10)
            {
                _lastLoggedPercent = percent;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_label} {percent,3}% {details}"));
            }
        }
    }

    /// <summary>Prints a one-line message (a checkpoint written, a grid drawn) above the bar; the bar is redrawn on its next update.</summary>
    public void Note(string message)
    {
        if (_interactive)
        {
            Console.Write("\r\u001b[2K");
            _lastDraw = DateTime.MinValue;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{_label}: {message}"));
    }

    public void Complete(string details)
    {
        Update(1, details, force: true);
        if (_interactive)
        {
            Console.WriteLine();
        }
    }

    public static string FormatEta(TimeSpan elapsed, double fraction)
    {
        if (fraction <= 0)
        {
            return "ETA --:--";
        }

        return FormatRemaining(TimeSpan.FromSeconds(elapsed.TotalSeconds * (1 - fraction) / fraction));
    }

    /// <summary>"ETA mm:ss" (or h:mm:ss) for a known remaining time.</summary>
    public static string FormatRemaining(TimeSpan remaining)
    {
        if (remaining < TimeSpan.Zero || remaining.TotalDays >= 100)
        {
            return "ETA --:--";
        }

        return "ETA " + remaining.ToString(remaining.TotalHours >= 1 ? @"h\:mm\:ss" : @"mm\:ss", CultureInfo.InvariantCulture);
    }
}
