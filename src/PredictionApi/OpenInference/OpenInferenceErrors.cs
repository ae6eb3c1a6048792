using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Options;

namespace PredictionApi.OpenInference;

/// <summary>
/// Every failure under /v2 in the protocol's shape, <c>{"error": "..."}</c> as application/json, instead of problem
/// details: a handler's refusal, an exception answered by the exception handler (unknown model, database down), and
/// routing's and the rate limiter's bare statuses alike. The service's problem customization still runs first, so the
/// message is the same detail a problem would carry and the refusal is counted.
/// </summary>
internal sealed class OpenInferenceErrors(IOptions<ProblemDetailsOptions> options) : IProblemDetailsWriter
{
    public bool CanWrite(ProblemDetailsContext context) => OpenInferenceApi.Owns(context.HttpContext.Request.Path);

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var response = context.HttpContext.Response;
        var problem = context.ProblemDetails;
        problem.Status ??= response.StatusCode;
        options.Value.CustomizeProblemDetails?.Invoke(context);
        var message = problem.Detail ?? problem.Title ?? ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        return new ValueTask(response.WriteAsJsonAsync(new InferenceError(message), options: null, contentType: "application/json", context.HttpContext.RequestAborted));
    }
}
