using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace DiffusionKit.Server;

/// <summary>
/// The image API:
/// <list type="bullet">
/// <item><description><c>GET /v1/images?prompt=&amp;seed=&amp;n=&amp;steps=&amp;guidance=&amp;sampler=</c>: <c>image/png</c>, one image or (n &gt; 1) a grid; the seeds in <c>X-Seeds</c>.</description></item>
/// <item><description><c>POST /v1/images</c> with the same fields as JSON: an <see cref="ImageResponse"/> with base64 PNGs, seeds and timings.</description></item>
/// <item><description><c>POST /v1/images/stream</c> with the same JSON: <c>text/event-stream</c> of <c>progress</c>, <c>image</c> and <c>done</c> events (an <c>error</c> event if it fails after starting).</description></item>
/// </list>
/// Errors before any output: 400 (bad field or over a limit) or 503 with <c>Retry-After</c> (queue full), see <see cref="ApiErrors"/>.
/// </summary>
internal static class ImageEndpoints
{
    /// <summary>Maps the endpoints.</summary>
    internal static void MapImageEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/images", GetAsync);
        app.MapPost("/v1/images", PostAsync);
        app.MapPost("/v1/images/stream", StreamAsync);
    }

    private static async Task<IResult> GetAsync(HttpContext context, IDiffusionPipeline pipeline)
    {
        try
        {
            var request = ImageRequestParser.FromQuery(context.Request.Query);
            var result = await pipeline.GenerateAsync(request, context.RequestAborted);
            context.Response.Headers["X-Seeds"] = string.Join(",", result.Images.Select(i => i.Seed.ToString(CultureInfo.InvariantCulture)));
            context.Response.Headers["X-Generation-Ms"] = result.Elapsed.TotalMilliseconds.ToString("F0", CultureInfo.InvariantCulture);
            byte[] png = result.Images.Count == 1 ? result.Images[0].Png.ToArray() : Grid(result.Images);
            return Results.File(png, "image/png");
        }
        catch (Exception ex) when (ApiErrors.IsAnswered(ex))
        {
            return ApiErrors.ToResult(ex, context);
        }
    }

    private static async Task<IResult> PostAsync(HttpContext context, IDiffusionPipeline pipeline)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            var request = ImageRequestParser.FromJson(await ReadBodyAsync(context));
            var result = await pipeline.GenerateAsync(request, context.RequestAborted);
            return Results.Ok(new ImageResponse(
                request.Prompts[0],
                result.Images.Select(ImageItem.From).ToList(),
                result.Elapsed.TotalMilliseconds,
                clock.Elapsed.TotalMilliseconds));
        }
        catch (Exception ex) when (ApiErrors.IsAnswered(ex))
        {
            return ApiErrors.ToResult(ex, context);
        }
    }

    private static async Task StreamAsync(HttpContext context, IDiffusionPipeline pipeline, IOptions<JsonOptions> json)
    {
        var clock = Stopwatch.StartNew();
        var serializer = json.Value.SerializerOptions;
        IAsyncEnumerator<GenerationUpdate>? updates = null;
        try
        {
            bool any;
            try
            {
                var request = ImageRequestParser.FromJson(await ReadBodyAsync(context));
                updates = pipeline.GenerateStreamingAsync(request, context.RequestAborted).GetAsyncEnumerator(context.RequestAborted);

                // Nothing is written until the first update, so bad input and a full queue still get a plain 400/503.
                any = await updates.MoveNextAsync();
            }
            catch (Exception ex) when (ApiErrors.IsAnswered(ex))
            {
                await ApiErrors.ToResult(ex, context).ExecuteAsync(context);
                return;
            }

            context.Response.ContentType = "text/event-stream";
            context.Response.Headers.CacheControl = "no-cache";
            int sent = 0;
            try
            {
                while (any)
                {
                    var update = updates.Current;
                    var p = update.Progress;
                    await WriteEventAsync(context, "progress", new ProgressEvent((p.PromptIndex * p.TotalSteps) + p.Step, p.PromptCount * p.TotalSteps), serializer);
                    foreach (var image in update.Images)
                    {
                        await WriteEventAsync(context, "image", ImageItem.From(image, sent++), serializer);
                    }

                    any = await updates.MoveNextAsync();
                }

                await WriteEventAsync(context, "done", new DoneEvent(sent, clock.Elapsed.TotalMilliseconds), serializer);
            }
            catch (Exception ex) when (ApiErrors.IsAnswered(ex))
            {
                await WriteEventAsync(context, "error", ApiErrors.Describe(ex)!.Value.Problem, serializer);
            }
        }
        finally
        {
            if (updates is not null)
            {
                await updates.DisposeAsync();
            }
        }
    }

    private static async Task<JsonElement> ReadBodyAsync(HttpContext context)
    {
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            return document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new ApiFieldException("body", $"The body is not valid JSON: {ex.Message}");
        }
    }

    private static async Task WriteEventAsync<T>(HttpContext context, string name, T data, JsonSerializerOptions options)
    {
        string payload = $"event: {name}\ndata: {JsonSerializer.Serialize(data, options)}\n\n";
        await context.Response.Body.WriteAsync(Encoding.UTF8.GetBytes(payload), context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }

    /// <summary>Lays n images out in a near-square grid (ceil(sqrt(n)) columns, 2 px black gaps) as one PNG.</summary>
    private static byte[] Grid(IReadOnlyList<GeneratedImage> images)
    {
        var cells = images.Select(i => new RgbImage(i.Width, i.Height, i.Pixels.ToArray())).ToList();
        int columns = (int)Math.Ceiling(Math.Sqrt(cells.Count));
        return PngEncoder.Encode(ImageGrid.Compose(cells, new ImageGridOptions { Columns = columns }));
    }
}
