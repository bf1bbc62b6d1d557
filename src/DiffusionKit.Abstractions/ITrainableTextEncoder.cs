using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// A prompt encoder whose weights are trained jointly with the denoiser (for example the learned token-embedding
/// encoder). A trainer encodes each batch's captions with <see cref="EncodeForTraining"/> inside the step and adds
/// <see cref="TrainableParameters"/> to its optimiser; frozen encoders (bag-of-words, pretrained) do not implement it
/// and have their contexts computed once.
/// </summary>
/// <remarks>Thread-safety: training is single-threaded; do not call <see cref="EncodeForTraining"/> concurrently with an optimiser step.</remarks>
public interface ITrainableTextEncoder : ITextEncoder
{
    /// <summary>The weights to optimise (and to average when EMA is on), in a stable order.</summary>
    /// <returns>The encoder's live parameters; not copies.</returns>
    IEnumerable<Parameter> TrainableParameters();

    /// <summary>Encodes captions keeping the autograd graph, so the loss's gradients reach <see cref="TrainableParameters"/>.</summary>
    /// <param name="captions">One caption per sample; an empty string is the unconditional prompt.</param>
    /// <returns>float32 tensor [captions.Count, ContextSize] on the encoder's device, attached to the autograd graph; owned by the caller (dispose scopes take it).</returns>
    Tensor EncodeForTraining(IReadOnlyList<string> captions);
}
