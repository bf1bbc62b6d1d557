using System.Globalization;
using System.Security;
using System.Text;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>loss.svg</c>: a small line chart of the training loss (smoothed) and the validation loss against the step, with a
/// log-scale y axis, axis labels and a legend. Written by hand (no plotting package is used), as the file's opening
/// comment says.
/// </summary>
internal static class LossChart
{
    private const double Width = 640, Height = 400, Left = 70, Right = 20, Top = 40, Bottom = 50;
    private const int MaxTrainingPoints = 600;
    private const string TrainingColor = "#1f77b4", ValidationColor = "#d62728";

    /// <summary>The chart of <paramref name="records"/> as SVG text (well-formed XML).</summary>
    public static string Render(IReadOnlyList<MetricsRecord> records)
    {
        var inv = CultureInfo.InvariantCulture;
        var training = records.Where(r => r.Loss is > 0 && double.IsFinite(r.Loss.Value)).Select(r => (r.Step, Value: r.Loss!.Value)).ToList();
        if (training.Count > MaxTrainingPoints)
        {
            int every = (int)Math.Ceiling(training.Count / (double)MaxTrainingPoints);
            training = training.Where((_, i) => i % every == 0 || i == training.Count - 1).ToList();
        }

        var validation = records.Where(r => r.ValidationLoss is > 0 && double.IsFinite(r.ValidationLoss.Value)).Select(r => (r.Step, Value: r.ValidationLoss!.Value)).ToList();
        var all = training.Concat(validation).ToList();
        int maxStep = Math.Max(1, all.Count == 0 ? 1 : all.Max(p => p.Step));
        double low = all.Count == 0 ? 0.01 : all.Min(p => p.Value);
        double high = all.Count == 0 ? 1 : all.Max(p => p.Value);
        double logLow = Math.Floor(Math.Log10(low));
        double logHigh = Math.Ceiling(Math.Log10(high));
        if (logHigh <= logLow)
        {
            logHigh = logLow + 1;
        }

        double plotWidth = Width - Left - Right, plotHeight = Height - Top - Bottom;
        double X(int step) => Left + (plotWidth * step / maxStep);
        double Y(double value) => Top + (plotHeight * (logHigh - Math.Log10(value)) / (logHigh - logLow));
        string F(double v) => v.ToString("0.##", inv);

        var svg = new StringBuilder();
        svg.Append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        svg.Append("<!-- DiffusionKit training loss chart, drawn by hand-written code (no plotting package): smoothed training loss and held-out validation loss (plain MSE, fixed noise and timesteps) against the optimiser step, log-scale y. Data: metrics.jsonl beside this file. -->\n");
        svg.Append(inv, $"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{F(Width)}\" height=\"{F(Height)}\" viewBox=\"0 0 {F(Width)} {F(Height)}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append(inv, $"<rect x=\"0\" y=\"0\" width=\"{F(Width)}\" height=\"{F(Height)}\" fill=\"white\"/>\n");
        svg.Append(inv, $"<text x=\"{F(Width / 2)}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">Loss</text>\n");

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
        for (int i = 0; i <= 5; i++)
        {
            int step = (int)Math.Round(maxStep * i / 5.0);
            double x = X(step);
            svg.Append(inv, $"<line x1=\"{F(x)}\" y1=\"{F(Height - Bottom)}\" x2=\"{F(x)}\" y2=\"{F(Height - Bottom + 5)}\" stroke=\"black\"/>\n");
            svg.Append(inv, $"<text x=\"{F(x)}\" y=\"{F(Height - Bottom + 18)}\" text-anchor=\"middle\">{step.ToString(inv)}</text>\n");
        }

        svg.Append(inv, $"<rect x=\"{F(Left)}\" y=\"{F(Top)}\" width=\"{F(plotWidth)}\" height=\"{F(plotHeight)}\" fill=\"none\" stroke=\"black\"/>\n");
        svg.Append(inv, $"<text x=\"{F(Left + (plotWidth / 2))}\" y=\"{F(Height - 10)}\" text-anchor=\"middle\">step</text>\n");
        svg.Append(inv, $"<text x=\"16\" y=\"{F(Top + (plotHeight / 2))}\" text-anchor=\"middle\" transform=\"rotate(-90 16 {F(Top + (plotHeight / 2))})\">loss (log scale)</text>\n");

        void Series(string id, List<(int Step, double Value)> points, string color, bool markers)
        {
            svg.Append(inv, $"<g id=\"{id}\">\n");
            if (points.Count > 0)
            {
                svg.Append(inv, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"1.5\" points=\"{string.Join(" ", points.Select(p => F(X(p.Step)) + "," + F(Y(p.Value))))}\"/>\n");
            }

            if (markers)
            {
                foreach (var p in points)
                {
                    svg.Append(inv, $"<circle cx=\"{F(X(p.Step))}\" cy=\"{F(Y(p.Value))}\" r=\"3\" fill=\"{color}\"/>\n");
                }
            }

            svg.Append("</g>\n");
        }

        Series("training-loss", training, TrainingColor, markers: false);
        Series("validation-loss", validation, ValidationColor, markers: true);

        // Legend, top right inside the plot.
        double lx = Width - Right - 190, ly = Top + 10;
        svg.Append(inv, $"<rect x=\"{F(lx)}\" y=\"{F(ly)}\" width=\"180\" height=\"44\" fill=\"white\" stroke=\"#999999\"/>\n");
        svg.Append(inv, $"<line x1=\"{F(lx + 8)}\" y1=\"{F(ly + 14)}\" x2=\"{F(lx + 32)}\" y2=\"{F(ly + 14)}\" stroke=\"{TrainingColor}\" stroke-width=\"2\"/>\n");
        svg.Append(inv, $"<text x=\"{F(lx + 38)}\" y=\"{F(ly + 18)}\">training loss (smoothed)</text>\n");
        svg.Append(inv, $"<line x1=\"{F(lx + 8)}\" y1=\"{F(ly + 32)}\" x2=\"{F(lx + 32)}\" y2=\"{F(ly + 32)}\" stroke=\"{ValidationColor}\" stroke-width=\"2\"/>\n");
        svg.Append(inv, $"<circle cx=\"{F(lx + 20)}\" cy=\"{F(ly + 32)}\" r=\"3\" fill=\"{ValidationColor}\"/>\n");
        svg.Append(inv, $"<text x=\"{F(lx + 38)}\" y=\"{F(ly + 36)}\">validation loss</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }
}
