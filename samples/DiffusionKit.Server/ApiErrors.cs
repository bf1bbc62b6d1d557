using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace DiffusionKit.Server;

/// <summary>
/// The server's one mapping from exceptions to HTTP answers: bad input and limits are 400 with a
/// <see cref="ValidationProblemDetails"/> body whose <c>errors</c> name the field, a full queue is 503 with
/// <c>Retry-After</c>. Anything else is left to ASP.NET Core (500).
/// </summary>
internal static class ApiErrors
{
    /// <summary>The problem body and status for <paramref name="exception"/>, or null when it is not a client error or busy signal.</summary>
    internal static (ProblemDetails Problem, TimeSpan? RetryAfter)? Describe(Exception exception)
    {
        switch (exception)
        {
            case PipelineBusyException busy:
                var retry = TimeSpan.FromSeconds(Math.Max(1, Math.Ceiling(busy.RetryAfter.TotalSeconds)));
                return (new ProblemDetails
                {
                    Status = StatusCodes.Status503ServiceUnavailable,
                    Title = "The server is busy",
                    Detail = busy.Message,
                }, retry);
            case ArgumentException argument:
                string field = argument is ApiFieldException api ? api.Field : ImageRequestParser.FieldOf(argument.ParamName);
                string message = StripParameterSuffix(argument.Message);
                var problem = new ValidationProblemDetails(new Dictionary<string, string[]> { [field] = [message] })
                {
                    Status = StatusCodes.Status400BadRequest,
                    Title = argument is GenerationLimitExceededException ? $"'{field}' is over a limit" : $"'{field}' is invalid",
                    Detail = message,
                };
                if (argument is GenerationLimitExceededException limit)
                {
                    problem.Extensions["limit"] = limit.LimitName;
                    problem.Extensions["maximum"] = limit.Maximum;
                }

                return (problem, null);
            default:
                return null;
        }
    }

    /// <summary>Whether <paramref name="exception"/> is answered by <see cref="ToResult"/> (bad input, a limit, busy) rather than propagated.</summary>
    internal static bool IsAnswered(Exception exception) => exception is ArgumentException or PipelineBusyException;

    /// <summary>The HTTP result for an exception that <see cref="IsAnswered"/>; sets <c>Retry-After</c> when busy.</summary>
    internal static IResult ToResult(Exception exception, HttpContext context)
    {
        var described = Describe(exception) ?? throw new ArgumentException("Only exceptions that IsAnswered have an HTTP answer.", nameof(exception), exception);

        if (described.RetryAfter is { } retry)
        {
            context.Response.Headers.RetryAfter = ((int)retry.TotalSeconds).ToString(CultureInfo.InvariantCulture);
        }

        return Results.Problem(described.Problem);
    }

    // ArgumentException appends " (Parameter 'X')"; the field is named in the body already.
    private static string StripParameterSuffix(string message)
    {
        int at = message.LastIndexOf(" (Parameter '", StringComparison.Ordinal);
        return at > 0 ? message[..at] : message;
    }
}
