using System.Diagnostics;
using Microsoft.Extensions.Options;

namespace PredictionApi.Problems;

/// <summary>
/// Problem details whatever the request's Accept header lists. ASP.NET Core's writer declines a request whose Accept
/// names no JSON type (application/xml, text/plain, image/png): an error raised as an exception was then sent with an
/// empty body, a routing refusal (405) as text/plain, and a problem written directly failed as a 500. RFC 9110 §12.5.1
/// lets a server disregard Accept rather than answer 406; an error in a type the client did not list still tells it
/// what went wrong. Registered after the framework's writer, so it only writes what that one declines.
/// </summary>
internal sealed class ProblemFallbackWriter(IOptions<ProblemDetailsOptions> options, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json) : IProblemDetailsWriter
{
    // The framework's writer names it through the JSON naming policy (trace_id here); the same name in every answer.
    private readonly string _traceIdName = json.Value.SerializerOptions.PropertyNamingPolicy?.ConvertName("traceId") ?? "traceId";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var response = context.HttpContext.Response;
        var problem = context.ProblemDetails;
        problem.Status ??= response.StatusCode;
        // The result's constructor fills in the type and title of the status, as the framework's writer does.
        _ = TypedResults.Problem(problem);
        problem.Extensions.TryAdd(_traceIdName, Activity.Current?.Id ?? context.HttpContext.TraceIdentifier);
        options.Value.CustomizeProblemDetails?.Invoke(context);
        return new ValueTask(response.WriteAsJsonAsync(problem, options: null, contentType: "application/problem+json", context.HttpContext.RequestAborted));
    }
}
