using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Problems;

/// <summary>
/// Turns the exceptions that mean "the request was bad", "a dependency is down" or "the image's bytes
/// cannot be reached" into the right problem details; everything else stays a 500 whose body says
/// nothing about the internals.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var (status, title, detail) = exception switch
        {
            // Kestrel's own limits and malformed requests (body too large or too slow, cut-off body).
            BadHttpRequestException bad => bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => (bad.StatusCode, "Payload too large", "The request body is larger than this endpoint accepts."),
                StatusCodes.Status408RequestTimeout => (bad.StatusCode, "Request timeout", "The request body arrived too slowly or stopped before its declared length; nothing was stored."),
                _ => (bad.StatusCode, "Bad request", "The request could not be read; it may be malformed or cut short."),
            },
            NpgsqlException or TimeoutException when IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "The prediction database is unavailable, so nothing was stored. Retry later."),
            // The bytes of an input could not be read or written; its message is written for the caller.
            InputStorageException storage => (storage.Status, storage.Title, storage.Message),
            _ => (0, "", ""),
        };
        if (status == 0)
        {
            return false;
        }

        if (status >= 500)
        {
            logger.LogWarning(exception, "Request failed with {Status}: {Detail}", status, detail);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    private static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        // Connection failures, server shutting down, too many connections, pool exhausted.
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal) || pg.SqlState.StartsWith("53", StringComparison.Ordinal),
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or TimeoutException or IOException,
        TimeoutException => true,
        _ => false,
    };
}
