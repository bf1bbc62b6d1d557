namespace DiffusionKit.Server;

/// <summary>Serves the page at <c>/</c> (plain HTML and JavaScript, embedded in the assembly; no build step).</summary>
internal static class IndexPage
{
    private static readonly Lazy<byte[]> Html = new(() =>
    {
        using var stream = typeof(IndexPage).Assembly.GetManifestResourceStream("DiffusionKit.Server.index.html")
            ?? throw new InvalidOperationException("The page resource DiffusionKit.Server.index.html is missing from the assembly.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    });

    /// <summary>The page.</summary>
    internal static IResult Serve() => Results.Bytes(Html.Value, "text/html; charset=utf-8");
}
