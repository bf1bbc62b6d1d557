using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Text;

namespace DiffusionKit.Training;

/// <summary>
/// A float32 copy of a denoiser (built by its <see cref="DenoiserType"/>; and of a learned prompt encoder) that receives a <see cref="TrainingSnapshot"/>'s
/// published weights, so checkpoints and samples are made without touching the model being trained.
/// </summary>
internal sealed class SnapshotModel : IDisposable
{
    private readonly LearnedTextEncoder? _learnedCopy;

    /// <summary>Builds the copies: the network <paramref name="model"/>'s type describes (its weights come with the first <see cref="Load"/>), and a learned encoder's.</summary>
    public SnapshotModel(DenoiserModule model, ITextEncoder encoder)
    {
        Model = model.DenoiserType.Create(model.DescribeForCheckpoint());
        Model.eval();
        if (encoder is LearnedTextEncoder learned)
        {
            _learnedCopy = new LearnedTextEncoder(learned.Vocabulary, learned.Dimension, learned.ContextSize);
            _learnedCopy.eval();
        }

        Encoder = _learnedCopy ?? encoder;
    }

    /// <summary>The network copy (eval mode, float32, CPU).</summary>
    public DenoiserModule Model { get; }

    /// <summary>The encoder to describe and sample with: the learned encoder's copy, or the (frozen) encoder itself.</summary>
    public ITextEncoder Encoder { get; }

    /// <summary>Copies the snapshot's published weights into the copies.</summary>
    /// <exception cref="ArgumentException">When the snapshot's weights do not fit (another model or encoder was trained).</exception>
    public void Load(TrainingSnapshot snapshot)
    {
        ModuleWeights.Load(Model, snapshot.ModelWeights);
        if (_learnedCopy is not null)
        {
            ModuleWeights.Load(_learnedCopy, snapshot.EncoderWeights);
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        _learnedCopy?.Dispose();
    }
}
