using System.Globalization;
using System.Security;
using System.Text;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>loss.svg</c>: a small line chart of the training loss (smoothed) and the validation loss against the step, with a
/// log-scale y axis, axis labels and a legend; when <c>metrics.jsonl</c> holds sample-quality measurements
/// (<see cref="TrainingQuality"/>), a second panel under it, on the same steps, draws the feature distance of the samples
/// to the validation images (log scale) with each point's judged accuracy. Written by hand (no plotting package is
/// used), as the file's opening comment says.
/// </summary>
internal static class LossChart
{
    private const double Width = 640, Right = 20, Left = 70, LossTop = 40, LossHeight = 310, QualityTop = 430, QualityHeight = 200, AxisBelow = 50;
    private const int MaxTrainingPoints = 600;
    private const string TrainingColor = "#1f77b4", ValidationColor = "#d62728", QualityColor = "#2ca02c";

    /// <summary>The chart of <paramref name="records"/> as SVG text (well-formed XML).</summary>
    public static string Render(IReadOnlyList<MetricsRecord> records)
    {
        var inv = CultureInfo.InvariantCulture;
        var training = Points(records, r => r.Loss);
        if (training.Count > MaxTrainingPoints)
        {
            int every = (int)Math.Ceiling(training.Count / (double)MaxTrainingPoints);
            training = training.Where((_, i) => i % every == 0 || i == training.Count - 1).ToList();
        }

        var validation = Points(records, r => r.ValidationLoss);

        // One point per measured step (the last measurement of a step wins: the recorded guidance's at the end).
        var quality = records.Where(r => r.FeatureDistance is > 0 && double.IsFinite(r.FeatureDistance.Value))
            .GroupBy(r => r.Step).Select(g => g.Last()).OrderBy(r => r.Step).ToList();
        var all = training.Concat(validation).ToList();
        int maxStep = Math.Max(1, all.Concat(quality.Select(q => (q.Step, 0.0))).Select(p => p.Step).DefaultIfEmpty(1).Max());
        double height = quality.Count > 0 ? QualityTop + QualityHeight + AxisBelow : LossTop + LossHeight + AxisBelow;
        double plotWidth = Width - Left - Right;
        double X(int step) => Left + (plotWidth * step / maxStep);
        string F(double v) => v.ToString("0.##", inv);

        var svg = new StringBuilder();
        svg.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append("<!-- DiffusionKit training loss chart, drawn by hand-written code (no plotting package): smoothed training loss and held-out validation loss (plain MSE, fixed noise and timesteps) against the optimiser step, log-scale y; below it, when measured, the feature distance of samples to the validation images (a judge trained on the folder, quality.json). Data: metrics.jsonl beside this file. -->\n");
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Width)}\" height=\"{F(height)}\" viewBox=\"0 0 {F(Width)} {F(height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{F(Width)}\" height=\"{F(height)}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{F(Width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Loss</text>\n");

        var lossY = Panel(svg, LossTop, LossHeight, all.Select(p => p.Value).ToList(), "loss (log scale)", maxStep, X);
        Series(svg, "training-loss", training, TrainingColor, markers: false, X, lossY);
        Series(svg, "validation-loss", validation, ValidationColor, markers: true, X, lossY);
        Legend(svg, LossTop, [("training loss (smoothed)", TrainingColor, false), ("validation loss", ValidationColor, true)]);

        if (quality.Count > 0)
        {
            svg.Append(inv, $"<text x=\"{F(Width / 2)}\" y=\"{F(QualityTop - 12)}\" text-anchor=\"middle\" font-size=\"13\">Samples: feature distance to the held-out images (lower is closer; labels: accuracy)</text>\n");
            var points = quality.Select(q => (q.Step, Value: q.FeatureDistance!.Value)).ToList();
            var qualityY = Panel(svg, QualityTop, QualityHeight, points.Select(p => p.Value).ToList(), "feature distance (log)", maxStep, X);
            Series(svg, "feature-distance", points, QualityColor, markers: true, X, qualityY);
            svg.Append("<g id=\"sample-accuracy\">\n");
            foreach (var q in quality.Where(q => q.SampleAccuracy is not null))
            {
                svg.Append(inv, $"<text x=\"{F(X(q.Step))}\" y=\"{F(qualityY(q.FeatureDistance!.Value) - 8)}\" text-anchor=\"middle\" font-size=\"10\">{q.SampleAccuracy!.Value:0.00}</text>\n");
            }

            svg.Append("</g>\n");
        }

        svg.Append("</svg>\n");
        return svg.ToString();
    }

    private static List<(int Step, double Value)> Points(IEnumerable<MetricsRecord> records, Func<MetricsRecord, double?> value) =>
        records.Select(r => (r.Step, Value: value(r))).Where(p => p.Value is > 0 && double.IsFinite(p.Value.Value)).Select(p => (p.Step, p.Value!.Value)).ToList();

    // Draws a panel's grid, ticks, frame and axis labels; returns its value-to-y mapping (log scale).
    private static Func<double, double> Panel(StringBuilder svg, double top, double height, IReadOnlyList<double> values, string yLabel, int maxStep, Func<int, double> x)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", inv);
        double low = values.Count == 0 ? 0.01 : values.Min();
        double high = values.Count == 0 ? 1 : values.Max();
        double logLow = Math.Floor(Math.Log10(low));
        double logHigh = Math.Ceiling(Math.Log10(high));
        if (logHigh <= logLow)
        {
            logHigh = logLow + 1;
        }

        double Y(double value) => top + (height * (logHigh - Math.Log10(value)) / (logHigh - logLow));

        // Grid and y ticks: each power of ten, and 2× and 5× between them.
        for (int e = (int)logLow; e <= (int)logHigh; e++)
        {
            foreach (double m in new[] { 1.0, 2.0, 5.0 })
            {
                double value = m * Math.Pow(10, e);
                double log = Math.Log10(value);
                if (log < logLow - 1e-9 || log > logHigh + 1e-9)
                {
                    continue;
                }

                double y = Y(value);
                svg.Append(inv, $"<line x1=\"{F(Left)}\" y1=\"{F(y)}\" x2=\"{F(Width - Right)}\" y2=\"{F(y)}\" stroke=\"{(m == 1 ? "#cccccc" : "#eeeeee")}\"/>\n");
                svg.Append(inv, $"<text x=\"{F(Left - 6)}\" y=\"{F(y + 4)}\" text-anchor=\"end\">{SecurityElement.Escape(value.ToString("G3", inv))}</text>\n");
            }
        }

        // X ticks: five evenly spaced steps.
        double bottom = top + height;
        for (int i = 0; i <= 5; i++)
        {
            int step = (int)Math.Round(maxStep * i / 5.0);
            svg.Append(inv, $"<line x1=\"{F(x(step))}\" y1=\"{F(bottom)}\" x2=\"{F(x(step))}\" y2=\"{F(bottom + 5)}\" stroke=\"black\"/>\n");
            svg.Append(inv, $"<text x=\"{F(x(step))}\" y=\"{F(bottom + 18)}\" text-anchor=\"middle\">{step.ToString(inv)}</text>\n");
        }

        double plotWidth = Width - Left - Right;
        svg.Append(inv, $"<rect x=\"{F(Left)}\" y=\"{F(top)}\" width=\"{F(plotWidth)}\" height=\"{F(height)}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(inv, $"<text x=\"{F(Left + (plotWidth / 2))}\" y=\"{F(bottom + 40)}\" text-anchor=\"middle\">step</text>\n");
        svg.Append(inv, $"<text x=\"16\" y=\"{F(top + (height / 2))}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {F(top + (height / 2))})\">{SecurityElement.Escape(yLabel)}</text>\n");
        return Y;
    }

    private static void Series(StringBuilder svg, string id, List<(int Step, double Value)> points, string color, bool markers, Func<int, double> x, Func<double, double> y)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", inv);
        svg.Append(inv, $"<g id=\"{id}\">\n");
        if (points.Count > 0)
        {
            svg.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(" ", points.Select(p => F(x(p.Step)) + "," + F(y(p.Value))))}\"/>\n");
        }

        if (markers)
        {
            foreach (var p in points)
            {
                svg.Append(inv, $"<circle cx=\"{F(x(p.Step))}\" cy=\"{F(y(p.Value))}\" r=\"3\" fill=\"{color}\"/>\n");
            }
        }

        svg.Append("</g>\n");
    }

    // A legend, top right inside the panel: one row per entry (a line, with a marker for series drawn with markers).
    private static void Legend(StringBuilder svg, double top, IReadOnlyList<(string Label, string Color, bool Marker)> entries)
    {
        var inv = CultureInfo.InvariantCulture;
        string F(double v) => v.ToString("0.##", inv);
        double width = 230, lx = Width - Right - width - 10, ly = top + 10;
        svg.Append(inv, $"<rect x=\"{F(lx)}\" y=\"{F(ly)}\" width=\"{F(width)}\" height=\"{F(8 + (18 * entries.Count))}\" fill=\"white\" stroke=\"#999999\"/>\n");
        for (int i = 0; i < entries.Count; i++)
        {
            double row = ly + 14 + (18 * i);
            svg.Append(inv, $"<line x1=\"{F(lx + 8)}\" y1=\"{F(row)}\" x2=\"{F(lx + 32)}\" y2=\"{F(row)}\" stroke=\"{entries[i].Color}\" stroke-width=\"2\"/>\n");
            if (entries[i].Marker)
            {
                svg.Append(inv, $"<circle cx=\"{F(lx + 20)}\" cy=\"{F(row)}\" r=\"3\" fill=\"{entries[i].Color}\"/>\n");
            }

            svg.Append(inv, $"<text x=\"{F(lx + 38)}\" y=\"{F(row + 4)}\">{SecurityElement.Escape(entries[i].Label)}</text>\n");
        }
    }
}
