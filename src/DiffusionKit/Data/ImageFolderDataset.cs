using System.Globalization;
using System.Text.Json;
using DiffusionKit.Imaging;

namespace DiffusionKit.Data;

/// <summary>
/// A folder of your own images with captions, as training pairs: square RGB or grayscale images of one size, scaled
/// by the trainer to [-1, 1].
/// </summary>
/// <remarks>
/// <para><b>Captions.</b> When the folder's root holds <c>metadata.jsonl</c> (one JSON object per line,
/// <c>{"file_name": "cats/1.png", "text": "a grey cat"}</c>, paths relative to the root; the caption field is
/// <see cref="ImageFolderOptions.CaptionColumn"/>), it alone defines the data set: only the files it lists are used.
/// Otherwise every image file under the root (recursively) is used, captioned by the <c>.txt</c> file beside it with
/// the same name if there is one (its text, trimmed), else by the name of the folder that holds it (class
/// subfolders). So metadata.jsonl wins over .txt files, and a .txt file wins over the folder name. An image directly
/// in the root with no .txt file has no caption and is a bad file.</para>
/// <para><b>Pixels.</b> PNG, JPEG, GIF (first frame), BMP, WebP, ICO and WBMP are decoded with SkiaSharp.
/// Alpha is composited onto black (RGBA becomes RGB, grayscale with alpha becomes grayscale): transparent pixels
/// become black, like the built-in data's background and the margins a centre crop never shows, and a half-transparent
/// pixel keeps alpha/255 of its value. Each image's shorter side is resized to
/// <see cref="ImageSize"/> and the centred square is kept (<see cref="ImageFolderOptions.RandomCrop"/> and
/// <see cref="ImageFolderOptions.RandomFlip"/> randomise this on every training read instead).</para>
/// <para><b>Mode.</b> The folder trains in one <see cref="Imaging.ImageMode"/> (<see cref="ImageMode"/>, so
/// <see cref="Channels"/> is 1 or 3): <see cref="ImageFolderOptions.ImageMode"/> when set, else the mode most of its
/// files have (a grayscale file is a PNG of colour type 0 or 4, or one Skia decodes as 8-bit grey such as a grayscale
/// JPEG; palette PNGs count as RGB), a tie taking RGB (which loses nothing). In grayscale, RGB images are converted to
/// their ITU-R BT.601 luma (<see cref="RgbImage.Luma"/>, the weights of Pillow's <c>convert("L")</c>); in RGB, a grey
/// value g becomes (g, g, g). <see cref="ImageModeNote"/> says when images were converted.</para>
/// <para><b>Bad files.</b> Every listed image is decoded once when the folder is opened, so a zero-byte, unreadable,
/// truncated or non-image file, a metadata line that is malformed or names a missing file, and an image without a
/// caption are all found then, never mid-run. By default each is skipped and listed in <see cref="Skipped"/>;
/// with <see cref="ImageFolderOptions.Strict"/> the first one throws an <see cref="InvalidDataException"/> naming
/// the file. Files whose extension is not an image's (and are not caption files) are listed in <see cref="Ignored"/>.</para>
/// <para><b>Memory.</b> When the decoded images fit in <see cref="ImageFolderOptions.MaxCacheBytes"/> they are all
/// kept (decoded once). Otherwise the data set streams: at most that many bytes of decoded images stay in memory
/// (first in, first out), a read that misses decodes the file again, and <see cref="Prefetch"/> decodes upcoming
/// images on background threads.</para>
/// <para>Thread-safety: safe to read from several threads.</para>
/// </remarks>
public sealed class ImageFolderDataset : IStreamingImageCaptionDataset
{
    /// <summary>The metadata file name looked for in the root.</summary>
    public const string MetadataFileName = "metadata.jsonl";

    private readonly Entry[] _entries;
    private readonly RgbImage?[] _pinned;
    private readonly object _cacheLock = new();
    private readonly Dictionary<int, RgbImage> _streamCache = new();
    private readonly Queue<int> _streamOrder = new();
    private readonly long _maxCacheBytes;
    private long _streamBytes;
    private int _prefetching;

    private ImageFolderDataset(string folder, ImageFolderOptions options, int size, ImageMode mode, string? modeNote, Entry[] entries, RgbImage?[] pinned, bool streaming, IReadOnlyList<SkippedImage> skipped, IReadOnlyList<string> ignored)
    {
        Folder = folder;
        ImageMode = mode;
        ImageModeNote = modeNote;
        Options = options;
        ImageSize = size;
        _entries = entries;
        _pinned = pinned;
        IsStreaming = streaming;
        Skipped = skipped;
        Ignored = ignored;
        _maxCacheBytes = options.MaxCacheBytes;
    }

    /// <summary>The folder's full path.</summary>
    public string Folder { get; }

    /// <summary>The (validated) options.</summary>
    public ImageFolderOptions Options { get; }

    /// <inheritdoc />
    public int Count => _entries.Length;

    /// <inheritdoc />
    public int ImageSize { get; }

    /// <inheritdoc />
    /// <remarks>1 when <see cref="ImageMode"/> is grayscale, 3 for RGB.</remarks>
    public int Channels => (int)ImageMode;

    /// <summary>
    /// The mode the images are read in: <see cref="ImageFolderOptions.ImageMode"/> when set, else the majority mode of
    /// the files (a tie is RGB). See the class remarks.
    /// </summary>
    public ImageMode ImageMode { get; }

    /// <summary>
    /// One line saying which images were converted to <see cref="ImageMode"/> and why, for example
    /// <c>12 of 7000 images are RGB, 6988 grayscale: training in grayscale (L); the RGB images are converted with ITU-R
    /// BT.601 luma.</c>; null when every image already has that mode.
    /// </summary>
    public string? ImageModeNote { get; }

    /// <summary>Files and metadata lines left out, with the reason; empty when every file was good.</summary>
    public IReadOnlyList<SkippedImage> Skipped { get; }

    /// <summary>Files that are neither images (by extension) nor caption files, left alone (for example a README).</summary>
    public IReadOnlyList<string> Ignored { get; }

    /// <summary>True when not every decoded image fits in <see cref="ImageFolderOptions.MaxCacheBytes"/>, so images are decoded again when read.</summary>
    public bool IsStreaming { get; }

    /// <inheritdoc />
    public bool ReadPerBatch => IsStreaming || Augments;

    /// <inheritdoc />
    public bool Augments => Options.RandomFlip || Options.RandomCrop;

    /// <summary>Bytes of decoded pixels held in memory now (all images in cached mode; at most <see cref="ImageFolderOptions.MaxCacheBytes"/> when streaming).</summary>
    public long ResidentBytes
    {
        get
        {
            lock (_cacheLock)
            {
                return IsStreaming ? _streamBytes : _pinned.Sum(p => (long)(p?.Pixels.Length ?? 0));
            }
        }
    }

    /// <summary>The distinct captions, in ordinal order (for building a vocabulary).</summary>
    public IReadOnlyList<string> DistinctCaptions => _entries.Select(e => e.Caption).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();

    /// <summary>Opens a folder: finds the captions, decodes and checks every image, picks the size and caches or streams.</summary>
    /// <param name="folder">The folder (see the class remarks for the layouts it understands).</param>
    /// <param name="options">Settings; null means the defaults.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="DirectoryNotFoundException">When the folder does not exist.</exception>
    /// <exception cref="InvalidDataException">When no usable image is found (the message lists what was skipped), the images' sizes differ and no <see cref="ImageFolderOptions.Size"/> is set, or (strict mode) at the first bad file, naming it.</exception>
    /// <exception cref="ArgumentException">When an option is invalid.</exception>
    public static ImageFolderDataset Open(string folder, ImageFolderOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        options ??= new ImageFolderOptions();
        options.Validate();
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"The image folder '{root}' does not exist.");
        }

        var skipped = new List<SkippedImage>();
        var ignored = new List<string>();
        void Bad(string path, string reason)
        {
            if (options.Strict)
            {
                throw new InvalidDataException($"'{path}': {reason} (strict mode; without it the file would be skipped and reported).");
            }

            skipped.Add(new SkippedImage(path, reason));
        }

        // 1. Find the images and their captions.
        string metadata = Path.Combine(root, MetadataFileName);
        List<Entry> listed = File.Exists(metadata)
            ? ReadMetadata(root, metadata, options.CaptionColumn, Bad)
            : ScanFolder(root, Bad, ignored);

        // 2. Read every header (cheap) to learn the sizes and modes; a file that cannot even be opened is bad.
        var sizes = new (int Width, int Height)?[listed.Count];
        var modes = new ImageMode[listed.Count];
        var errors = new string?[listed.Count];
        Parallel.For(0, listed.Count, new ParallelOptions { MaxDegreeOfParallelism = options.DecodeThreads }, i =>
        {
            try
            {
                var (width, height, mode) = ImageDecoder.ReadHeader(listed[i].Path);
                sizes[i] = (width, height);
                modes[i] = mode;
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = Reason(ex, listed[i].Path);
            }
        });
        ReportInOrder(listed, errors, Bad);

        int size = options.Size ?? InferSize(root, listed, sizes);

        // 3. Decode every readable image once (this finds truncated and corrupt files), fitted to the size.
        var decoded = new RgbImage?[listed.Count];
        Array.Clear(errors);
        Parallel.For(0, listed.Count, new ParallelOptions { MaxDegreeOfParallelism = options.DecodeThreads }, i =>
        {
            if (sizes[i] is null)
            {
                return;
            }

            try
            {
                decoded[i] = Fit(ImageDecoder.Decode(listed[i].Path), size, options.RandomCrop);
            }
            catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                errors[i] = Reason(ex, listed[i].Path);
            }
        });
        ReportInOrder(listed, errors, Bad);

        var entries = new List<Entry>();
        var images = new List<RgbImage>();
        int greyFiles = 0;
        for (int i = 0; i < listed.Count; i++)
        {
            if (decoded[i] is { } image)
            {
                entries.Add(listed[i]);
                images.Add(image);
                greyFiles += modes[i] == ImageMode.Grayscale ? 1 : 0;
            }
        }

        if (entries.Count == 0)
        {
            string why = skipped.Count == 0
                ? $"it holds no image files ({string.Join(", ", ImageDecoder.Extensions.Order(StringComparer.Ordinal))})"
                : $"all {skipped.Count} candidates were bad: {string.Join("; ", skipped.Take(5))}{(skipped.Count > 5 ? "; ..." : string.Empty)}";
            throw new InvalidDataException($"The image folder '{root}' has no usable image: {why}.");
        }

        // 4. The mode: the option's, else the majority's (a tie keeps colour); convert the others.
        int rgbFiles = entries.Count - greyFiles;
        ImageMode imageMode = options.ImageMode ?? (greyFiles > rgbFiles ? ImageMode.Grayscale : ImageMode.Rgb);
        string? modeNote = ModeNote(entries.Count, greyFiles, imageMode, options.ImageMode is not null);
        if (imageMode == ImageMode.Grayscale)
        {
            for (int i = 0; i < images.Count; i++)
            {
                images[i] = images[i].ToGrayscale();
            }
        }

        // 5. Keep everything when it fits; otherwise stream (the decoded copies are dropped here and re-read on demand).
        long total = images.Sum(img => (long)img.Pixels.Length);
        bool streaming = total > options.MaxCacheBytes;
        RgbImage?[] pinned = streaming ? new RgbImage?[entries.Count] : images.ToArray();
        return new ImageFolderDataset(root, options, size, imageMode, modeNote, entries.ToArray(), pinned, streaming, skipped, ignored);
    }

    /// <inheritdoc />
    public string GetCaption(int index)
    {
        CheckIndex(index);
        return _entries[index].Caption;
    }

    /// <summary>Where the caption of image <paramref name="index"/> came from.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <returns>The caption's source.</returns>
    public CaptionSource GetCaptionSource(int index)
    {
        CheckIndex(index);
        return _entries[index].Source;
    }

    /// <summary>The full path of image <paramref name="index"/>.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <returns>The file's path.</returns>
    public string GetPath(int index)
    {
        CheckIndex(index);
        return _entries[index].Path;
    }

    /// <inheritdoc />
    /// <remarks>The centred square, never flipped: the deterministic view of the image.</remarks>
    public void CopyImage(int index, Span<byte> destination)
    {
        CheckDestination(index, destination);
        RgbImage image = Get(index);
        ImageDecoder.Crop(image, (image.Width - ImageSize) / 2, (image.Height - ImageSize) / 2, ImageSize, destination, Channels);
    }

    /// <inheritdoc />
    /// <remarks>With neither <see cref="ImageFolderOptions.RandomCrop"/> nor <see cref="ImageFolderOptions.RandomFlip"/> this is <see cref="CopyImage"/>.</remarks>
    public void CopyAugmentedImage(int index, Span<byte> destination, int seed)
    {
        CheckDestination(index, destination);
        RgbImage image = Get(index);
        var random = new Random(seed);
        int left = Options.RandomCrop ? random.Next(image.Width - ImageSize + 1) : (image.Width - ImageSize) / 2;
        int top = Options.RandomCrop ? random.Next(image.Height - ImageSize + 1) : (image.Height - ImageSize) / 2;
        ImageDecoder.Crop(image, left, top, ImageSize, destination, Channels);
        if (Options.RandomFlip && random.Next(2) == 1)
        {
            int channels = Channels;
            for (int y = 0; y < ImageSize; y++)
            {
                Span<byte> row = destination.Slice(y * ImageSize * channels, ImageSize * channels);
                for (int x = 0; x < ImageSize / 2; x++)
                {
                    Span<byte> a = row.Slice(x * channels, channels);
                    Span<byte> b = row.Slice((ImageSize - 1 - x) * channels, channels);
                    for (int c = 0; c < channels; c++)
                    {
                        (a[c], b[c]) = (b[c], a[c]);
                    }
                }
            }
        }
    }

    /// <inheritdoc />
    /// <remarks>Cached mode: nothing to do. Streaming: decodes the images not yet resident on background threads (one batch of work at a time; a hint given while one runs is dropped).</remarks>
    public void Prefetch(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        if (!IsStreaming || Interlocked.CompareExchange(ref _prefetching, 1, 0) != 0)
        {
            return;
        }

        int[] wanted;
        lock (_cacheLock)
        {
            wanted = indices.Where(i => (uint)i < (uint)_entries.Length && !_streamCache.ContainsKey(i)).Distinct().ToArray();
        }

        _ = Task.Run(() =>
        {
            try
            {
                Parallel.ForEach(wanted, new ParallelOptions { MaxDegreeOfParallelism = Options.DecodeThreads }, i => Get(i));
            }
            catch (InvalidDataException)
            {
                // A file that changed on disk since the folder was opened: the read itself will report it.
            }
            finally
            {
                Volatile.Write(ref _prefetching, 0);
            }
        });
    }

    private RgbImage Get(int index)
    {
        if (!IsStreaming)
        {
            return _pinned[index]!;
        }

        lock (_cacheLock)
        {
            if (_streamCache.TryGetValue(index, out RgbImage? hit))
            {
                return hit;
            }
        }

        Entry entry = _entries[index];
        RgbImage image;
        try
        {
            image = Fit(ImageDecoder.Decode(entry.Path), ImageSize, Options.RandomCrop);
            if (ImageMode == ImageMode.Grayscale)
            {
                image = image.ToGrayscale();
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException)
        {
            throw new InvalidDataException($"'{entry.Path}' was readable when the folder was opened but is not now: {ex.Message}", ex);
        }

        lock (_cacheLock)
        {
            if (_streamCache.ContainsKey(index))
            {
                return _streamCache[index];
            }

            long bytes = image.Pixels.Length;
            while (_streamBytes + bytes > _maxCacheBytes && _streamOrder.Count > 0)
            {
                int evict = _streamOrder.Dequeue();
                _streamBytes -= _streamCache[evict].Pixels.Length;
                _streamCache.Remove(evict);
            }

            if (_streamBytes + bytes <= _maxCacheBytes)
            {
                _streamCache[index] = image;
                _streamOrder.Enqueue(index);
                _streamBytes += bytes;
            }
        }

        return image;
    }

    private void CheckIndex(int index)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, _entries.Length);
    }

    private void CheckDestination(int index, Span<byte> destination)
    {
        CheckIndex(index);
        int bytes = ImageSize * ImageSize * Channels;
        if (destination.Length < bytes)
        {
            throw new ArgumentException($"{nameof(destination)} holds {destination.Length} bytes but one {ImageSize}×{ImageSize} {ImageModeNames.Format(ImageMode)} image needs {bytes}; pass a larger span.", nameof(destination));
        }
    }

    /// <summary>Resized so the shorter side is <paramref name="size"/>; square (centre crop) unless the random crop needs the whole width.</summary>
    private static RgbImage Fit(RgbImage image, int size, bool keepLongerSide)
    {
        if (keepLongerSide)
        {
            return ImageDecoder.ResizeShorterSide(image, size);
        }

        return new RgbImage(size, size, ImageDecoder.FitCentre(image, size));
    }

    /// <summary>The <see cref="ImageModeNote"/>: null when no image is converted.</summary>
    private static string? ModeNote(int total, int greyFiles, ImageMode mode, bool asked)
    {
        int rgbFiles = total - greyFiles;
        int converted = mode == ImageMode.Grayscale ? rgbFiles : greyFiles;
        if (converted == 0)
        {
            return null;
        }

        var inv = CultureInfo.InvariantCulture;
        string counts = mode == ImageMode.Grayscale
            ? string.Create(inv, $"{rgbFiles} of {total} images are RGB, {greyFiles} grayscale")
            : string.Create(inv, $"{greyFiles} of {total} images are grayscale, {rgbFiles} RGB");
        string why = asked ? "as set (--image-mode / ImageFolderOptions.ImageMode)"
            : mode == ImageMode.Rgb && greyFiles == rgbFiles ? "(a tie keeps colour, which loses nothing)"
            : "(the majority)";
        string how = mode == ImageMode.Grayscale
            ? "the RGB images are converted with ITU-R BT.601 luma"
            : "the grayscale images' grey g becomes (g, g, g)";
        return $"{counts}: training in {(mode == ImageMode.Grayscale ? "grayscale (L)" : "RGB")} {why}; {how}.";
    }

    private static int InferSize(string root, List<Entry> listed, (int Width, int Height)?[] sizes)
    {
        var distinct = sizes.Where(s => s is not null).Select(s => s!.Value).Distinct().ToList();
        if (distinct.Count == 0)
        {
            return 16; // Nothing readable: the caller reports the empty folder.
        }

        if (distinct.Count == 1 && distinct[0].Width == distinct[0].Height)
        {
            int side = distinct[0].Width;
            if (side >= 8 && side % 4 == 0)
            {
                return side;
            }

            throw new InvalidDataException($"The images in '{root}' are {side}x{side}, which the U-Net cannot use (it needs a multiple of 4, at least 8); set a size (--size or ImageFolderOptions.Size), e.g. {Math.Max(8, (side + 3) / 4 * 4)}.");
        }

        string examples = string.Join(", ", distinct.Take(4).Select(d =>
        {
            int at = Array.FindIndex(sizes, s => s == d);
            return string.Create(CultureInfo.InvariantCulture, $"{d.Width}x{d.Height} ('{Path.GetRelativePath(root, listed[at].Path)}')");
        }));
        throw new InvalidDataException($"The images in '{root}' do not share one square size ({examples}{(distinct.Count > 4 ? ", ..." : string.Empty)}); set the training size (--size or ImageFolderOptions.Size, a multiple of 4) and each image is resized and centre-cropped to it.");
    }

    private static void ReportInOrder(List<Entry> listed, string?[] errors, Action<string, string> bad)
    {
        for (int i = 0; i < listed.Count; i++)
        {
            if (errors[i] is { } reason)
            {
                bad(listed[i].Path, reason);
            }
        }
    }

    /// <summary>The decoder's message without the leading quoted path (the report names the path itself).</summary>
    private static string Reason(Exception ex, string path)
    {
        string prefix = $"'{path}': ";
        string message = ex.Message.StartsWith(prefix, StringComparison.Ordinal) ? ex.Message[prefix.Length..] : ex.Message;
        return message.TrimEnd('.');
    }

    private static List<Entry> ScanFolder(string root, Action<string, string> bad, List<string> ignored)
    {
        var entries = new List<Entry>();
        var files = Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.Hidden | FileAttributes.System })
            .Order(StringComparer.Ordinal)
            .ToList();
        var imageStems = new HashSet<string>(
            files.Where(f => ImageDecoder.Extensions.Contains(Path.GetExtension(f))).Select(f => Path.ChangeExtension(f, null)),
            StringComparer.Ordinal);
        foreach (string file in files)
        {
            string extension = Path.GetExtension(file);
            if (!ImageDecoder.Extensions.Contains(extension))
            {
                bool captionFile = extension.Equals(".txt", StringComparison.OrdinalIgnoreCase) && imageStems.Contains(Path.ChangeExtension(file, null));
                if (!captionFile)
                {
                    ignored.Add(file);
                }

                continue;
            }

            string sidecar = Path.ChangeExtension(file, ".txt");
            string? parent = Path.GetDirectoryName(file);
            if (File.Exists(sidecar))
            {
                string text = File.ReadAllText(sidecar).Trim();
                if (text.Length == 0)
                {
                    bad(file, $"its caption file '{Path.GetFileName(sidecar)}' is empty");
                    continue;
                }

                entries.Add(new Entry(file, text, CaptionSource.TextFile));
            }
            else if (parent is not null && !string.Equals(Path.GetFullPath(parent), root, StringComparison.Ordinal))
            {
                entries.Add(new Entry(file, Path.GetFileName(parent), CaptionSource.ClassFolder));
            }
            else
            {
                bad(file, $"it has no caption: put it in a class folder, add '{Path.GetFileName(sidecar)}' beside it, or list it in {MetadataFileName}");
            }
        }

        return entries;
    }

    private static List<Entry> ReadMetadata(string root, string metadata, string column, Action<string, string> bad)
    {
        var entries = new List<Entry>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(metadata))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string where = string.Create(CultureInfo.InvariantCulture, $"{metadata}:{lineNumber}");
            string? fileName;
            string? caption;
            try
            {
                using var json = JsonDocument.Parse(line);
                if (json.RootElement.ValueKind != JsonValueKind.Object)
                {
                    bad(where, "the line is not a JSON object");
                    continue;
                }

                fileName = json.RootElement.TryGetProperty("file_name", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
                caption = json.RootElement.TryGetProperty(column, out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
            }
            catch (JsonException ex)
            {
                bad(where, $"the line is not valid JSON ({ex.Message})");
                continue;
            }

            if (string.IsNullOrWhiteSpace(fileName))
            {
                bad(where, "the line has no \"file_name\" string");
                continue;
            }

            string path = Path.GetFullPath(Path.Combine(root, fileName));
            if (!path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            {
                bad(where, $"\"file_name\" '{fileName}' points outside the folder; give a path relative to it");
                continue;
            }

            if (string.IsNullOrWhiteSpace(caption))
            {
                bad(where, $"the line has no non-empty \"{column}\" string (the caption column; set it with --caption-column / ImageFolderOptions.CaptionColumn)");
                continue;
            }

            if (!File.Exists(path))
            {
                bad(path, $"listed in {MetadataFileName} line {lineNumber.ToString(CultureInfo.InvariantCulture)} but the file is missing");
                continue;
            }

            entries.Add(new Entry(path, caption.Trim(), CaptionSource.MetadataJsonl));
        }

        return entries;
    }

    private sealed record Entry(string Path, string Caption, CaptionSource Source);
}
