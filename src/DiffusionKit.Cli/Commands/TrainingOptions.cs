using System.CommandLine;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// The training options <c>train</c> and <c>demo</c> share: budget, optimiser, network, encoder, schedule, seed,
/// threads and precision. Each command makes its own set with its own <see cref="TrainingDefaults"/>.
/// </summary>
internal sealed class TrainingOptions
{
    /// <summary>Creates the options with <paramref name="defaults"/>; with <paramref name="folder"/>, each description also says the default an image folder takes instead.</summary>
    /// <param name="defaults">The defaults the parser applies (shapes and npy data).</param>
    /// <param name="folder">The defaults <see cref="TrainingDataSource.ApplyFolderDefaults"/> applies to <c>--data &lt;folder&gt;</c> (train only).</param>
    public TrainingOptions(TrainingDefaults defaults, TrainingDefaults? folder = null)
    {
        // "; with --data <folder>: X" where a folder run uses another default, so --help shows what each run really uses.
        string Folder<T>(Func<TrainingDefaults, T> pick, Func<T, string> format, string sized) =>
            folder is null || EqualityComparer<T>.Default.Equals(pick(folder), pick(defaults)) ? string.Empty
            : $"; with --data <folder>: {(pick(folder) is null ? sized : format(pick(folder)))}";
        string Number<T>(T value) => string.Format(System.Globalization.CultureInfo.InvariantCulture, "{0}", value);
        Steps = CliOptions.Integer("--steps", "optimizer steps; --epochs or --time instead replace this budget, --time with --steps caps it" + Folder(d => d.Steps, Number, "sized to the images (about 1.25e13 forward FLOPs, docs/training.md)"), Required(defaults.Steps), 1);
        Epochs = CliOptions.OptionalInteger("--epochs", "passes over the data (a budget instead of --steps)", 1);
        Time = CliOptions.Duration("--time", "wall-clock budget (instead of --steps; with --steps it caps the run)");
        Batch = CliOptions.Integer("--batch", "images per optimizer step" + Folder(d => d.Batch, Number, string.Empty), defaults.Batch, 1);
        LearningRate = CliOptions.Number("--lr", "peak learning rate" + Folder(d => d.LearningRate, Number, string.Empty), defaults.LearningRate, 1e-8, 1);
        LearningRateSchedule = new ChoiceOption<LearningRateSchedule>(
            "--lr-schedule", "learning-rate decay after the warm-up" + Folder(d => d.LearningRateSchedule, Format, string.Empty), ScheduleNames, ParseSchedule, Format(defaults.LearningRateSchedule));
        Warmup = CliOptions.Integer("--warmup", "linear learning-rate warm-up steps" + Folder(d => d.Warmup, Number, string.Empty), defaults.Warmup, 0);
        Features = CliOptions.Integer("--features", "the U-Net's width (n_feat)" + Folder(d => d.Features, Number, $"{TrainingDataSource.DefaultFeatures(16)} up to 16x16 images, {TrainingDataSource.DefaultFeatures(17)} above"), Required(defaults.Features), 8);
        Model = new ChoiceOption<TrainableNetwork>(
            "--model", "the denoising network: the course's context U-Net, or a three-level U-Net with self- and cross-attention (docs/training.md)" + Folder(d => d.Network, TrainableNetworks.Format, string.Empty),
            TrainableNetworks.Names, TrainableNetworks.Parse, TrainableNetworks.Format(defaults.Network));
        Count = CliOptions.Integer("--count", "built-in shapes images to generate", 24000, 1);
        Dropout = CliOptions.Number("--dropout", "probability of training a caption as the empty prompt (what classifier-free guidance needs)", 0.1, 0, 1);
        Ema = CliOptions.Number("--ema", "EMA decay of the saved weights (0: no EMA)" + Folder(d => d.Ema, Number, string.Empty), defaults.Ema, 0, 0.999999);
        Seed = CommonOptions.Seed("seed of the data, the initialisation and the noise");
        Threads = CommonOptions.Threads();
        Encoder = new ChoiceOption<EncoderKind>(
            "--encoder", "prompt encoder: bag of words, a learned embedding (--encoder-dim), or MiniLM sentence embeddings", EncoderNames, ParseEncoder, EncoderNames[0]);
        EncoderDim = CliOptions.Integer("--encoder-dim", "embedding width of the learned encoder", 32, 1, 4096);
        Prediction = new ChoiceOption<PredictionType>(
            "--prediction", "what the network predicts" + Folder(d => d.Prediction, SchedulerNames.Format, string.Empty), PredictionNames, ParseNamed(SchedulerNames.ParsePredictionType), SchedulerNames.Format(defaults.Prediction));
        BetaSchedule = new ChoiceOption<BetaSchedule>(
            "--beta-schedule", "the noise schedule", BetaScheduleNames, ParseNamed(SchedulerNames.ParseBetaSchedule), SchedulerNames.Format(Scheduling.BetaSchedule.Linear));
        SnrGamma = CliOptions.OptionalNumber("--snr-gamma", "Min-SNR-γ loss weighting" + (defaults.SnrGamma is null ? " (off unless given)" : string.Empty) + Folder(d => d.SnrGamma, v => Number(v), string.Empty), 1e-6, 1e6, defaults.SnrGamma);
        HoldOut = CommonOptions.HoldOut("shapes colour/shape combinations left out of training");
        Precision = CommonOptions.Precision(
            Training.Precision.Auto, "training arithmetic: bf16 computes in bfloat16 with fp32 master weights; auto times fp32 and bf16 once per machine and network (remembered in ~/.cache/diffusionkit) and takes bf16 only when over 1.15x faster");
    }

    private static int Required(int? value) => value ?? throw new ArgumentException("The parser's defaults need a fixed step count and width; only the folder defaults are sized to the data.", nameof(value));

    /// <summary>The prompt encoders <c>--encoder</c> names.</summary>
    internal enum EncoderKind
    {
        /// <summary><c>bow</c>: the data's bag of words.</summary>
        BagOfWords,

        /// <summary><c>learned</c>: a learned word embedding.</summary>
        Learned,

        /// <summary><c>minilm</c>: MiniLM sentence embeddings (ONNX).</summary>
        MiniLm,
    }

    /// <summary><c>--steps N</c>.</summary>
    public Option<int> Steps { get; }

    /// <summary><c>--epochs N</c>.</summary>
    public Option<int?> Epochs { get; }

    /// <summary><c>--time 10m</c>.</summary>
    public Option<TimeSpan?> Time { get; }

    /// <summary><c>--batch N</c>.</summary>
    public Option<int> Batch { get; }

    /// <summary><c>--lr X</c>.</summary>
    public Option<double> LearningRate { get; }

    /// <summary><c>--lr-schedule linear|cosine|constant</c>.</summary>
    public ChoiceOption<LearningRateSchedule> LearningRateSchedule { get; }

    /// <summary><c>--warmup N</c>.</summary>
    public Option<int> Warmup { get; }

    /// <summary><c>--features N</c>.</summary>
    public Option<int> Features { get; }

    /// <summary><c>--model context-unet|attention-unet</c>.</summary>
    public ChoiceOption<TrainableNetwork> Model { get; }

    /// <summary><c>--count N</c>.</summary>
    public Option<int> Count { get; }

    /// <summary><c>--dropout X</c>.</summary>
    public Option<double> Dropout { get; }

    /// <summary><c>--ema X</c>.</summary>
    public Option<double> Ema { get; }

    /// <summary><c>--seed N</c>.</summary>
    public Option<long> Seed { get; }

    /// <summary><c>--threads N</c>.</summary>
    public Option<int?> Threads { get; }

    /// <summary><c>--encoder bow|learned|minilm</c>.</summary>
    public ChoiceOption<EncoderKind> Encoder { get; }

    /// <summary><c>--encoder-dim N</c>.</summary>
    public Option<int> EncoderDim { get; }

    /// <summary><c>--prediction epsilon|v_prediction|sample</c>.</summary>
    public ChoiceOption<PredictionType> Prediction { get; }

    /// <summary><c>--beta-schedule linear|scaled_linear|squaredcos_cap_v2</c>.</summary>
    public ChoiceOption<BetaSchedule> BetaSchedule { get; }

    /// <summary><c>--snr-gamma X</c>.</summary>
    public Option<double?> SnrGamma { get; }

    /// <summary><c>--hold-out "blue triangle,..."</c>.</summary>
    public Option<IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)>?> HoldOut { get; }

    /// <summary><c>--precision auto|fp32|bf16</c>.</summary>
    public ChoiceOption<Precision> Precision { get; }

    /// <summary>Every option, in the order <c>--help</c> lists them.</summary>
    public IEnumerable<Option> All =>
    [
        Steps, Epochs, Time, Batch, LearningRate, LearningRateSchedule, Warmup, Model, Features, Count, Dropout, Ema, Seed, Threads,
        Encoder, EncoderDim, Prediction, BetaSchedule, SnrGamma, HoldOut, Precision,
    ];

    /// <summary>
    /// The step budget: <c>--steps</c> as given; without it, its default unless <c>--epochs</c> or <c>--time</c> sets
    /// the budget instead (then null: the run ends on that budget alone).
    /// </summary>
    public int? ReadSteps(ParseResult parse) =>
        parse.IsGiven(Steps) || !(parse.IsGiven(Epochs) || parse.IsGiven(Time)) ? parse.GetValue(Steps) : null;

    private static readonly string[] EncoderNames = ["bow", "learned", "minilm"];

    private static readonly string[] ScheduleNames = Enum.GetValues<LearningRateSchedule>().Select(Format).ToArray();

    private static readonly string[] PredictionNames = Enum.GetValues<PredictionType>().Select(SchedulerNames.Format).ToArray();

    private static readonly string[] BetaScheduleNames = Enum.GetValues<BetaSchedule>().Select(SchedulerNames.Format).ToArray();

    private static EncoderKind? ParseEncoder(string text) => Array.IndexOf(EncoderNames, text) is var i and >= 0 ? (EncoderKind)i : null;

    private static LearningRateSchedule? ParseSchedule(string text) =>
        Enum.GetValues<LearningRateSchedule>().Where(s => Format(s) == text.ToLowerInvariant()).Select(s => (LearningRateSchedule?)s).FirstOrDefault();

    internal static string Format(LearningRateSchedule schedule) => schedule.ToString().ToLowerInvariant();

    private static Func<string, T?> ParseNamed<T>(Func<string, T> parse)
        where T : struct => text =>
        {
            try
            {
                return parse(text);
            }
            catch (ArgumentException)
            {
                return null;
            }
        };
}
