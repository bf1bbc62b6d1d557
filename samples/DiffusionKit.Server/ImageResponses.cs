namespace DiffusionKit.Server;

/// <summary>The JSON answer of <c>POST /v1/images</c>.</summary>
/// <param name="Prompt">The prompt.</param>
/// <param name="Images">The images, in order.</param>
/// <param name="GenerationMs">Time the pipeline spent generating, in milliseconds.</param>
/// <param name="TotalMs">Time from receiving the request to having all images, in milliseconds (includes queueing).</param>
public sealed record ImageResponse(string Prompt, IReadOnlyList<ImageItem> Images, double GenerationMs, double TotalMs);

/// <summary>One image of an <see cref="ImageResponse"/> or of an <c>image</c> server-sent event.</summary>
/// <param name="Index">Index among the request's images.</param>
/// <param name="Seed">The seed that reproduces this image (see the pipeline's seed rule).</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Png">The PNG file, base64.</param>
public sealed record ImageItem(int Index, long Seed, int Width, int Height, string Png)
{
    /// <summary>Converts a pipeline image.</summary>
    internal static ImageItem From(GeneratedImage image, int index) =>
        new(index, image.Seed, image.Width, image.Height, Convert.ToBase64String(image.Png.Span));
}

/// <summary>A <c>progress</c> server-sent event: denoising steps finished out of the total.</summary>
/// <param name="Step">Steps finished over all prompts of the request.</param>
/// <param name="TotalSteps">All steps of the request.</param>
public sealed record ProgressEvent(int Step, int TotalSteps);

/// <summary>The <c>done</c> server-sent event.</summary>
/// <param name="Images">How many images were sent.</param>
/// <param name="TotalMs">Time from receiving the request to the last image, in milliseconds.</param>
public sealed record DoneEvent(int Images, double TotalMs);
