using PredictionApi.Observability;

namespace PredictionApi.Problems;

internal static class ProblemsExtensions
{
    /// <summary>Every failure is answered with application/problem+json.</summary>
    public static WebApplicationBuilder AddProblems(this WebApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            // Titles are a fixed set written in this code base, so they are bounded labels.
            context.HttpContext.RequestServices.GetService<ServiceMetrics>()?.Refusals.Add(1, new("status", context.ProblemDetails.Status ?? 0), new("title", context.ProblemDetails.Title ?? ""));
            if (context.ProblemDetails.Status == StatusCodes.Status405MethodNotAllowed)
            {
                HeadRequests.AllowHeadWithGet(context.HttpContext.Response);
            }

            // Status-code-only answers (404, 405 from routing) get a detail too.
            context.ProblemDetails.Detail ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status404NotFound => $"No resource at '{context.HttpContext.Request.Path}'. See /openapi/v1.json for the API.",
                StatusCodes.Status405MethodNotAllowed => $"'{context.HttpContext.Request.Method}' is not allowed on '{context.HttpContext.Request.Path}'; the Allow header lists the methods that are.",
                // Routing refuses a body of the wrong media type before the endpoint runs; say what that endpoint takes.
                StatusCodes.Status415UnsupportedMediaType => RequestBodies.UnsupportedMediaTypeDetail(context.HttpContext),
                // An unexpected failure may come after a commit, so it claims nothing about what was stored.
                StatusCodes.Status500InternalServerError => HttpMethods.IsGet(context.HttpContext.Request.Method)
                    ? "The server failed to process the request; the error has been logged."
                    : "The server failed to process the request; the error has been logged. A change it made may or may not have been " +
                      "stored: retry an upload with the same Idempotency-Key, or look for it first.",
                _ => null,
            };
            // The statuses ASP.NET Core gives no type of its own.
            context.ProblemDetails.Type ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
                StatusCodes.Status413PayloadTooLarge => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
                StatusCodes.Status414RequestUriTooLong => "https://tools.ietf.org/html/rfc9110#section-15.5.15",
                StatusCodes.Status431RequestHeaderFieldsTooLarge => "https://tools.ietf.org/html/rfc6585#section-5",
                _ => null,
            };
        });
        // After the framework's writer: problem details also for a client whose Accept lists no JSON type.
        builder.Services.AddSingleton<IProblemDetailsWriter, ProblemFallbackWriter>();
        builder.Services.AddExceptionHandler<ApiExceptionHandler>();
        // A failed start is reported once, in one line, by StartupFailures.
        builder.Logging.AddFilter(StartupFailures.HostCategory, LogLevel.Critical);
        return builder;
    }
}
