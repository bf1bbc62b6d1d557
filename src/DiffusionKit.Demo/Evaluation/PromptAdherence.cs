namespace DiffusionKit.Demo.Evaluation;

/// <summary>Adherence of the images generated for one prompt; accuracies are fractions in [0, 1].</summary>
/// <param name="Prompt">The canonical caption, e.g. "a large red circle".</param>
/// <param name="Count">Number of images judged for this prompt.</param>
/// <param name="ColorAccuracy">Fraction whose colour matches.</param>
/// <param name="KindAccuracy">Fraction whose shape matches.</param>
/// <param name="SizeAccuracy">Fraction whose size class matches.</param>
/// <param name="AllAccuracy">Fraction that match in colour, shape and size at once.</param>
public sealed record PromptAdherence(
    string Prompt, int Count, double ColorAccuracy, double KindAccuracy, double SizeAccuracy, double AllAccuracy);
