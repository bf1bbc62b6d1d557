// Load driver for build/bench-serve.sh: drives a running DiffusionKit.Server on loopback (127.0.0.1 only) at several
// concurrency levels, one image per request, and prints a Markdown report: images/s, p50/p95/p99 latency, errors,
// the server's RSS, the largest pixel difference between an image made alone and the same (prompt, seed) under load,
// and the RSS drift over a long run of sequential requests. Each level first runs untimed warm-up requests at its own
// concurrency (the server's tiered JIT recompiles its hot paths for seconds after start, competing with the network for
// the cores), so the figures describe a warm server.
//
// Hand-written rather than a load tool (hey, k6, bombardier) because none is served here, and the report needs the
// pixel comparison and the server's RSS from /proc, which those tools do not do.
//
// Usage: BenchServe --url http://127.0.0.1:5080 --pid <server pid> [--levels 1,8,16,32] [--requests 96]
//                   [--warmup <requests per level; default 2 x concurrency, at least 16>]
//                   [--sequential 1000] [--sequential-steps 5]
using System.Diagnostics;
using System.Globalization;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;

var options = ParseArgs(args);
var baseUri = new Uri(options.GetValueOrDefault("url", "http://127.0.0.1:5080"));
if (!baseUri.IsLoopback)
{
    Console.Error.WriteLine($"--url must be a loopback address (127.0.0.1), not {baseUri.Host}.");
    return 2;
}

int pid = int.Parse(options["pid"], CultureInfo.InvariantCulture);
int[] levels = options.GetValueOrDefault("levels", "1,8,16,32").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
int requestsPerLevel = int.Parse(options.GetValueOrDefault("requests", "96"), CultureInfo.InvariantCulture);
int sequential = int.Parse(options.GetValueOrDefault("sequential", "1000"), CultureInfo.InvariantCulture);
string sequentialSteps = options.GetValueOrDefault("sequential-steps", "5");
int? warmup = options.TryGetValue("warmup", out var w) ? int.Parse(w, CultureInfo.InvariantCulture) : null;

string[] colors = ["red", "green", "blue", "yellow", "magenta", "cyan"];
string[] shapes = ["circle", "square", "triangle", "cross"];
string[] sizes = ["small", "large"];
string Prompt(int i) => $"a {sizes[i % 2]} {colors[i / 2 % 6]} {shapes[i / 12 % 4]}";
const string ProbePrompt = "a large red circle";
const int ProbeSeed = 424242;

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseUri, Timeout = TimeSpan.FromMinutes(10) };

// Warm-up (also the reference image made alone).
var reference = PngDecoder.Decode(await http.GetByteArrayAsync(Query(ProbePrompt, ProbeSeed, null)));
for (int i = 0; i < 3; i++)
{
    await http.GetByteArrayAsync(Query(Prompt(i), i, null));
}

Console.WriteLine("| concurrency | requests | images/s | p50 (s) | p95 (s) | p99 (s) | errors | RSS after (MiB) | max pixel diff vs alone |");
Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
var throughput = new Dictionary<int, double>();
var tailRatio = new Dictionary<int, double>();
foreach (int concurrency in levels)
{
    await RunLevel(concurrency, warmup ?? Math.Max(16, 2 * concurrency));
    var (latencies, errors, maxDiff, wall) = await RunLevel(concurrency, requestsPerLevel);
    latencies.Sort();
    throughput[concurrency] = latencies.Count / wall;
    tailRatio[concurrency] = Percentile(latencies, 95) / Percentile(latencies, 50);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {concurrency} | {requestsPerLevel} | {throughput[concurrency]:F2} | {Percentile(latencies, 50):F2} | {Percentile(latencies, 95):F2} | {Percentile(latencies, 99):F2} | {errors} | {RssMiB(pid):F0} | {maxDiff} |"));
}

// Issue 11's bars: images/s at each level over concurrency 1's, and each level's p95 over its p50.
if (throughput.TryGetValue(1, out double single) && throughput.Count > 1)
{
    Console.WriteLine();
    Console.WriteLine(string.Join("; ", levels.Where(c => c != 1).Select(c => string.Create(CultureInfo.InvariantCulture,
        $"c{c} / c1 = {throughput[c] / single:F1}× (p95 / p50 {tailRatio[c]:F2})"))));
}

if (sequential > 0)
{
    // RSS after the first 100 requests (all of them in a shorter run) against the end.
    int mark = Math.Min(100, sequential);
    double afterMark = 0;
    int seqErrors = 0;
    var seqClock = Stopwatch.StartNew();
    for (int i = 0; i < sequential; i++)
    {
        using var response = await http.GetAsync(Query(Prompt(i), 5000 + i, sequentialSteps));
        await response.Content.ReadAsByteArrayAsync();
        if (!response.IsSuccessStatusCode)
        {
            seqErrors++;
        }

        if (i == mark - 1)
        {
            afterMark = RssMiB(pid);
        }
    }

    double end = RssMiB(pid);
    Console.WriteLine();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"Sequential: {sequential} requests ({sequentialSteps} steps each) in {seqClock.Elapsed.TotalSeconds:F0} s, {seqErrors} errors; RSS after the first {mark}: {afterMark:F0} MiB, at the end: {end:F0} MiB ({(end - afterMark) / afterMark * 100:+0.0;-0.0}%)."));
}

return 0;

// Sends `count` requests from `concurrency` closed-loop clients (each sends its next request when its last one returns).
async Task<(List<double> Latencies, int Errors, int MaxDiff, double Wall)> RunLevel(int concurrency, int count)
{
    var latencies = new List<double>();
    int errors = 0, next = 0, maxDiff = 0;
    var clock = Stopwatch.StartNew();
    var workers = Enumerable.Range(0, concurrency).Select(async _ =>
    {
        while (true)
        {
            int i = Interlocked.Increment(ref next) - 1;
            if (i >= count)
            {
                return;
            }

            // Every 8th request is the probe, to compare with the image made alone.
            bool probe = i % 8 == 0;
            var start = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.GetAsync(probe ? Query(ProbePrompt, ProbeSeed, null) : Query(Prompt(i), 1000 + i, null));
                byte[] body = await response.Content.ReadAsByteArrayAsync();
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                lock (latencies)
                {
                    if (!response.IsSuccessStatusCode)
                    {
                        errors++;
                        continue;
                    }

                    latencies.Add(seconds);
                    if (probe)
                    {
                        maxDiff = Math.Max(maxDiff, MaxDifference(reference, PngDecoder.Decode(body)));
                    }
                }
            }
            catch (HttpRequestException)
            {
                lock (latencies)
                {
                    errors++;
                }
            }
        }
    }).ToArray();
    await Task.WhenAll(workers);
    return (latencies, errors, maxDiff, clock.Elapsed.TotalSeconds);
}

static string Query(string prompt, int seed, string? steps) =>
    $"/v1/images?prompt={Uri.EscapeDataString(prompt)}&seed={seed}" + (steps is null ? string.Empty : $"&steps={steps}");

static double Percentile(List<double> sorted, double p) =>
    sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Count) - 1, 0, sorted.Count - 1)];

static double RssMiB(int pid)
{
    foreach (var line in File.ReadLines($"/proc/{pid}/status"))
    {
        if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
        {
            return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024;
        }
    }

    throw new InvalidOperationException($"/proc/{pid}/status has no VmRSS line.");
}

static int MaxDifference(RgbImage a, RgbImage b)
{
    int max = 0;
    for (int i = 0; i < a.Pixels.Length; i++)
    {
        max = Math.Max(max, Math.Abs(a.Pixels[i] - b.Pixels[i]));
    }

    return max;
}

static Dictionary<string, string> ParseArgs(string[] args)
{
    var result = new Dictionary<string, string>(StringComparer.Ordinal);
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Expected --name value pairs, got '{args[i]}'.", nameof(args));
        }

        result[args[i][2..]] = args[i + 1];
    }

    if (!result.ContainsKey("pid"))
    {
        throw new ArgumentException("--pid <server process id> is required (the RSS is read from /proc/<pid>/status).", nameof(args));
    }

    return result;
}
