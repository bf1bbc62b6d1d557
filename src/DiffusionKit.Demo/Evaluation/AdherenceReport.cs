namespace DiffusionKit.Demo.Evaluation;

/// <summary>How well a set of images follows their prompts, as judged by <see cref="ShapesJudge.Score"/>; accuracies are fractions in [0, 1].</summary>
/// <param name="Count">Number of images judged.</param>
/// <param name="ColorAccuracy">Fraction whose colour matches the prompt.</param>
/// <param name="KindAccuracy">Fraction whose shape matches the prompt.</param>
/// <param name="SizeAccuracy">Fraction whose size class matches the prompt.</param>
/// <param name="AllAccuracy">Fraction that match in colour, shape and size at once.</param>
/// <param name="PerPrompt">The same figures per prompt, in catalogue order (only prompts that occurred).</param>
public sealed record AdherenceReport(
    int Count,
    double ColorAccuracy,
    double KindAccuracy,
    double SizeAccuracy,
    double AllAccuracy,
    IReadOnlyList<PromptAdherence> PerPrompt);
