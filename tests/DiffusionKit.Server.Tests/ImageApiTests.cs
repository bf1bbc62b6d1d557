using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Server.Tests;

[Collection(ServerCollection.Name)]
public sealed class ImageApiTests(ServerFixture fixture)
{
    private HttpClient Client => fixture.Server.Client;

    [Fact]
    public async Task Get_returns_a_png_and_the_same_prompt_and_seed_give_the_same_png()
    {
        using var first = await Client.GetAsync("/v1/images?prompt=a%20large%20red%20circle&seed=7");
        using var second = await Client.GetAsync("/v1/images?prompt=a%20large%20red%20circle&seed=7");
        using var other = await Client.GetAsync("/v1/images?prompt=a%20large%20red%20circle&seed=8");

        first.StatusCode.Should().Be(HttpStatusCode.OK);
        first.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        var a = PngDecoder.Decode(await first.Content.ReadAsByteArrayAsync());
        var b = PngDecoder.Decode(await second.Content.ReadAsByteArrayAsync());
        var c = PngDecoder.Decode(await other.Content.ReadAsByteArrayAsync());
        (a.Width, a.Height).Should().Be((16, 16));
        MaxDifference(a, b).Should().BeLessThanOrEqualTo(2, "the same (prompt, seed) gives the same pixels within 2/255");
        MaxDifference(a, c).Should().BeGreaterThan(2, "another seed gives another image");
    }

    [Fact]
    public async Task The_same_prompt_and_seed_give_the_same_png_alone_and_under_load()
    {
        const string probe = "/v1/images?prompt=a%20small%20cyan%20cross&seed=99";
        using var alone = await Client.GetAsync(probe);
        var reference = PngDecoder.Decode(await alone.Content.ReadAsByteArrayAsync());

        // 12 concurrent requests (the probe three times among other prompts, seeds and guidance) share batches.
        string[] prompts = ["a large red circle", "a small blue square", "a large yellow triangle"];
        var load = Enumerable.Range(0, 12).Select(i => Client.GetAsync(i % 4 == 0 ? probe
            : $"/v1/images?prompt={Uri.EscapeDataString(prompts[i % 3])}&seed={i}&guidance={i % 3}")).ToArray();
        var responses = await Task.WhenAll(load);

        try
        {
            responses.Should().OnlyContain(r => r.StatusCode == HttpStatusCode.OK);
            foreach (int i in new[] { 0, 4, 8 })
            {
                var underLoad = PngDecoder.Decode(await responses[i].Content.ReadAsByteArrayAsync());
                MaxDifference(reference, underLoad).Should().BeLessThanOrEqualTo(2, "a request's pixels do not depend on its batch-mates");
            }
        }
        finally
        {
            foreach (var response in responses)
            {
                response.Dispose();
            }
        }
    }

    [Fact]
    public async Task Guidance_scale_is_diffusers_s_and_gives_the_image_of_the_weight_s_minus_1()
    {
        using var weight = await Client.GetAsync("/v1/images?prompt=a%20small%20red%20circle&seed=11&guidance=1.5");
        using var scale = await Client.GetAsync("/v1/images?prompt=a%20small%20red%20circle&seed=11&guidance_scale=2.5");
        weight.StatusCode.Should().Be(HttpStatusCode.OK);
        scale.StatusCode.Should().Be(HttpStatusCode.OK);
        (await scale.Content.ReadAsByteArrayAsync()).Should().Equal(await weight.Content.ReadAsByteArrayAsync(), "guidance_scale 2.5 (diffusers) is guidance 1.5 (w)");

        using var both = await Client.GetAsync("/v1/images?prompt=a%20small%20red%20circle&guidance=1&guidance_scale=2");
        using var over = await Client.GetAsync("/v1/images?prompt=a%20small%20red%20circle&guidance_scale=102");
        foreach (var (response, detail) in new[] { (both, "not both"), (over, "0..101") })
        {
            response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
            using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            problem.RootElement.GetProperty("errors").GetProperty("guidance_scale")[0].GetString().Should().Contain(detail);
        }
    }

    [Fact]
    public async Task Get_with_n_returns_a_grid_png_and_the_seeds()
    {
        using var response = await Client.GetAsync("/v1/images?prompt=a%20small%20blue%20square&seed=3&n=4&steps=2&guidance=1.5");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("image/png");
        var grid = PngDecoder.Decode(await response.Content.ReadAsByteArrayAsync());
        (grid.Width, grid.Height).Should().Be((2 + (2 * (16 + 2)), 2 + (2 * (16 + 2))), "4 images in a 2x2 grid with 2 px gaps");
        response.Headers.GetValues("X-Seeds").Single().Split(',').Should().HaveCount(4);
    }

    [Fact]
    public async Task Post_returns_json_with_base64_pngs_seeds_and_timings_matching_get()
    {
        using var response = await Client.PostAsJsonAsync("/v1/images", new { prompt = "a large green cross", seed = 11, n = 2 });
        using var alone = await Client.GetAsync("/v1/images?prompt=a%20large%20green%20cross&seed=11");

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = json.RootElement;
        root.GetProperty("prompt").GetString().Should().Be("a large green cross");
        root.GetProperty("generationMs").GetDouble().Should().BePositive();
        root.GetProperty("totalMs").GetDouble().Should().BeGreaterThanOrEqualTo(root.GetProperty("generationMs").GetDouble());
        var images = root.GetProperty("images").EnumerateArray().ToList();
        images.Should().HaveCount(2);
        images.Select(i => i.GetProperty("index").GetInt32()).Should().Equal(0, 1);
        var firstPng = Convert.FromBase64String(images[0].GetProperty("png").GetString()!);
        var decoded = PngDecoder.Decode(firstPng);
        (decoded.Width, decoded.Height).Should().Be((images[0].GetProperty("width").GetInt32(), images[0].GetProperty("height").GetInt32()));
        var seeds = images.Select(i => i.GetProperty("seed").GetInt64()).ToList();
        alone.Headers.GetValues("X-Seeds").Single().Should().Be(seeds[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
        MaxDifference(decoded, PngDecoder.Decode(await alone.Content.ReadAsByteArrayAsync())).Should().BeLessThanOrEqualTo(2, "image 0 of a 2-image request equals the same request for 1 image");
    }

    [Theory]
    [InlineData("prompt=a%20large%20red%20circle&n=100000", "n")]
    [InlineData("prompt=a%20large%20red%20circle&steps=0", "steps")]
    [InlineData("prompt=a%20large%20red%20circle&guidance=NaN", "guidance")]
    [InlineData("prompt=a%20large%20red%20circle&guidance=1e308", "guidance")]
    [InlineData("prompt=a%20large%20red%20circle&guidance=100.5", "guidance")]
    [InlineData("prompt=a%20large%20purple%20blob", "prompt")]
    [InlineData("prompt=a%20large%20red%20circle&seed=abc", "seed")]
    [InlineData("prompt=a%20large%20red%20circle&sampler=euler", "sampler")]
    [InlineData("prompt=a%20large%20red%20circle&size=64", "size")]
    [InlineData("seed=1", "prompt")]
    public async Task Bad_input_is_400_problem_details_naming_the_field(string query, string field)
    {
        using var response = await Client.GetAsync("/v1/images?" + query);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("status").GetInt32().Should().Be(400);
        problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().Equal(field);
        problem.RootElement.GetProperty("detail").GetString().Should().NotBeNullOrWhiteSpace().And.NotContain("   at ", "no stack trace");
        using var health = await Client.GetAsync("/healthz");
        health.StatusCode.Should().Be(HttpStatusCode.OK, "the server is unaffected");
    }

    [Theory]
    [InlineData("""{ "prompt": "a large red circle", "n": 100000 }""", "n")]
    [InlineData("""{ "prompt": "a large red circle", "guidance": "NaN" }""", "guidance")]
    [InlineData("""{ "prompt": "a large red circle", "guidance": 1e308 }""", "guidance")]
    [InlineData("""{ "prompt": "a large red circle", "n": "3" }""", "n")]
    [InlineData("""{ "prompt": "a large red circle", "seed": true }""", "seed")]
    [InlineData("""{ "prompt": "a large red circle", "sampler": 3 }""", "sampler")]
    [InlineData("""{ "prompt": "a large red circle", "steps": 0 }""", "steps")]
    [InlineData("""{ "prompt": 5 }""", "prompt")]
    [InlineData("""{ "prompt": "a large red circle", "seed": 1.5 }""", "seed")]
    [InlineData("""{ "prompt": "a large red circle" """, "body")]
    [InlineData("""[ "a large red circle" ]""", "body")]
    public async Task Bad_json_is_400_problem_details_naming_the_field(string body, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/v1/images", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("errors").EnumerateObject().Select(p => p.Name).Should().Equal(field);
    }

    [Fact]
    public async Task Stream_sends_progress_for_every_step_then_the_images_then_done()
    {
        using var content = new StringContent("""{ "prompt": "a small yellow triangle", "seed": 5, "n": 2 }""", Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/v1/images/stream", content);

        response.StatusCode.Should().Be(HttpStatusCode.OK);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        var events = ParseEvents(await response.Content.ReadAsStringAsync());
        var progress = events.Where(e => e.Name == "progress").Select(e => e.Data.GetProperty("step").GetInt32()).ToList();
        progress.Should().Equal(1, 2, 3);
        events.Where(e => e.Name == "progress").Should().OnlyContain(e => e.Data.GetProperty("totalSteps").GetInt32() == 3);
        events.Where(e => e.Name == "image").Should().HaveCount(2);
        events[^1].Name.Should().Be("done");
        events[^1].Data.GetProperty("images").GetInt32().Should().Be(2);
    }

    [Theory]
    [InlineData("""{ "prompt": "a large purple blob" }""", "prompt", "purple")]
    [InlineData("""{ "prompt": "a large red circle", "guidance": 1e308 }""", "guidance", "0..100")]
    public async Task Stream_answers_bad_input_with_400_before_any_event(string body, string field, string detail)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await Client.PostAsync("/v1/images/stream", content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        problem.RootElement.GetProperty("errors").GetProperty(field)[0].GetString().Should().Contain(detail);
    }

    [Fact]
    public async Task Health_is_healthy_once_started_and_the_page_is_served()
    {
        using var health = await Client.GetAsync("/healthz");
        using var page = await Client.GetAsync("/");

        health.StatusCode.Should().Be(HttpStatusCode.OK);
        (await health.Content.ReadAsStringAsync()).Should().Be("Healthy");
        page.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        (await page.Content.ReadAsStringAsync()).Should().Contain("id=\"prompt\"").And.Contain("/v1/images/stream");
    }

    internal static int MaxDifference(RgbImage a, RgbImage b)
    {
        a.Pixels.Length.Should().Be(b.Pixels.Length);
        int max = 0;
        for (int i = 0; i < a.Pixels.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a.Pixels[i] - b.Pixels[i]));
        }

        return max;
    }

    private static List<(string Name, JsonElement Data)> ParseEvents(string stream)
    {
        var events = new List<(string, JsonElement)>();
        foreach (var block in stream.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            string name = "message", data = string.Empty;
            foreach (var line in block.Split('\n'))
            {
                if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    name = line[7..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data += line[6..];
                }
            }

            events.Add((name, JsonDocument.Parse(data).RootElement.Clone()));
        }

        return events;
    }
}
