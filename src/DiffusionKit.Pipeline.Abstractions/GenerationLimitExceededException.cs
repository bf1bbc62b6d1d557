using System.Globalization;

namespace DiffusionKit;

/// <summary>
/// A request asks for more than a pipeline allows (images per request, steps, prompt length): thrown at once, before
/// the request is queued or allocates anything. Hosts map it to HTTP 400 (it is an <see cref="ArgumentException"/>).
/// </summary>
/// <remarks>
/// <see cref="LimitName"/> names the pipeline option that was exceeded (for example <c>MaxImagesPerRequest</c>),
/// <see cref="ArgumentException.ParamName"/> the request property that exceeded it (for example <c>ImagesPerPrompt</c>).
/// </remarks>
public sealed class GenerationLimitExceededException : ArgumentException
{
    /// <summary>Creates the exception with a message built from the limit, the value and the maximum.</summary>
    /// <param name="limitName">The limit's option name, for example <c>MaxImagesPerRequest</c>.</param>
    /// <param name="value">What the request asked for.</param>
    /// <param name="maximum">The largest value the limit allows.</param>
    /// <param name="paramName">The request property that exceeded the limit, for example <c>ImagesPerPrompt</c>.</param>
    public GenerationLimitExceededException(string limitName, long value, long maximum, string? paramName)
        : base(string.Create(CultureInfo.InvariantCulture, $"The request exceeds the pipeline's {limitName} limit: it asks for {value}, the maximum is {maximum}. Ask for less, or raise {limitName} in the pipeline options."), paramName)
    {
        LimitName = limitName;
        Value = value;
        Maximum = maximum;
    }

    /// <summary>The limit's option name, for example <c>MaxImagesPerRequest</c>, <c>MaxSteps</c> or <c>MaxPromptLength</c>.</summary>
    public string LimitName { get; }

    /// <summary>What the request asked for.</summary>
    public long Value { get; }

    /// <summary>The largest value the limit allows.</summary>
    public long Maximum { get; }
}
