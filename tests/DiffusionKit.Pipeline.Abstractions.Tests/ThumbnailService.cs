namespace DiffusionKit.Pipeline.Abstractions.Tests;

/// <summary>A consumer's service under test: it asks the pipeline for images and turns errors into its own results.</summary>
internal sealed class ThumbnailService(IDiffusionPipeline pipeline)
{
    public async Task<(bool Ok, string Message, int Images)> DrawAsync(string prompt, int count, double? guidance, CancellationToken cancellationToken = default)
    {
        try
        {
            var result = await pipeline.GenerateAsync(new GenerationRequest { Prompts = [prompt], ImagesPerPrompt = count, GuidanceScale = guidance, Seed = 7 }, cancellationToken);
            return (true, string.Join(",", result.Images.Select(i => i.Seed)), result.Images.Count);
        }
        catch (ArgumentException ex)
        {
            return (false, ex.ParamName ?? ex.Message, 0);
        }
        catch (PipelineBusyException ex)
        {
            return (false, $"busy, retry after {ex.RetryAfter.TotalSeconds:F0} s", 0);
        }
    }
}
