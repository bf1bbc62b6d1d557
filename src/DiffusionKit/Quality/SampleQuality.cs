namespace DiffusionKit.Quality;

/// <summary>What <see cref="SampleQualityEvaluator"/> measured for one model and guidance.</summary>
/// <param name="Guidance">The classifier-free guidance weight w the images were sampled with.</param>
/// <param name="Accuracy">The fraction of sampled images the folder's own classifier assigns to the caption they were prompted with.</param>
/// <param name="Confidence">The mean probability the judge gives the prompted caption: like <paramref name="Accuracy"/>, but it keeps rising after every image is recognised, as images become less ambiguous.</param>
/// <param name="FeatureDistance">The Fréchet distance between the sampled images' features and the validation images' (<see cref="FrechetDistance"/>); lower is closer to the real images.</param>
/// <param name="Images">How many images were sampled.</param>
public sealed record SampleQuality(double Guidance, double Accuracy, double Confidence, double FeatureDistance, int Images);
