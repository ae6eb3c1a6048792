using Microsoft.AspNetCore.Diagnostics;
using Npgsql;
using PredictionApi.Storage;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Problems;

/// <summary>
/// Turns the exceptions that mean "the request was bad", "a dependency is down" or "the image's bytes
/// cannot be reached" into the right problem details; everything else stays a 500 whose body says
/// nothing about the internals.
/// </summary>
internal sealed class ApiExceptionHandler(IProblemDetailsService problems, IServiceProvider services, ILogger<ApiExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (IsDeadConnection(exception) || exception.InnerException is { } inner && IsDeadConnection(inner))
        {
            // The backend behind a pooled connection is gone (PostgreSQL restarted or the backend was
            // terminated), and so are those of the pool's other idle connections, opened before the same
            // event. Dropping them all now lets this request be the only one that fails, without paying a
            // validation round trip on every request. The failed request itself is not retried: its
            // statement may have committed before the connection broke.
            services.GetService<NpgsqlDataSource>()?.Clear();
        }

        var (status, title, detail) = exception switch
        {
            // Kestrel's own limits and malformed requests (body too large or too slow, cut-off body).
            BadHttpRequestException bad => bad.StatusCode switch
            {
                StatusCodes.Status413PayloadTooLarge => (bad.StatusCode, "Payload too large", "The request body is larger than this endpoint accepts."),
                StatusCodes.Status408RequestTimeout => (bad.StatusCode, "Request timeout", "The request body arrived too slowly or stopped before its declared length; nothing was stored."),
                _ => (bad.StatusCode, "Bad request", "The request could not be read; it may be malformed or cut short."),
            },
            PostgresException { SqlState: PostgresErrorCodes.ReadOnlySqlTransaction } => (StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                ReadOnlyDetail(httpContext.Request.Method)),
            NpgsqlException or TimeoutException when IsDatabaseUnavailable(exception) => (StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                UnavailableDetail(httpContext.Request.Method)),
            // Rejected images, unreachable input bytes, malformed uploads: the message is written for the caller.
            ProblemException problem => (problem.Status, problem.Title, problem.Message),
            _ => (0, "", ""),
        };
        if (status == 0)
        {
            return false;
        }

        var databaseFailure = exception is NpgsqlException or TimeoutException ? exception : exception.InnerException as NpgsqlException;
        if (status == StatusCodes.Status503ServiceUnavailable && databaseFailure is not null && services.GetService<DatabaseOutage>() is { } outage)
        {
            // An outage fails every request that needs the database: it is logged once, not per request.
            outage.RequestFailed(databaseFailure);
        }
        else if (exception is InputStorageException { Status: StatusCodes.Status503ServiceUnavailable, InnerException: not null })
        {
            // The store's failure is logged by its outage log, once per outage rather than once per request.
        }
        else if (status >= 500)
        {
            logger.LogWarning(exception, "Request failed with {Status}: {Detail}", status, detail);
        }

        httpContext.Response.StatusCode = status;
        if (status == StatusCodes.Status503ServiceUnavailable && !httpContext.Response.Headers.ContainsKey("Retry-After"))
        {
            // Every 503 here is worth retrying: an outage usually lasts seconds (a restart, a failover).
            httpContext.Response.Headers.RetryAfter = RetryAfterSeconds;
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }

    private const string RetryAfterSeconds = "5";

    /// <summary>
    /// What a database failure before the commit means for the request: a read is simply not answered; an upload stored
    /// nothing; a label change or a delete changed nothing. (A failure while the commit itself was awaited is "Outcome
    /// unknown", from <see cref="Predictions.CommitStep"/>, and never reaches this.)
    /// </summary>
    private static string UnavailableDetail(string method) => method switch
    {
        "GET" or "HEAD" or "OPTIONS" => "The prediction database is unavailable. Retry later.",
        "POST" => "The prediction database is unavailable, so nothing was stored. Retry later.",
        _ => "The prediction database is unavailable, so nothing was changed. Retry later.",
    };

    /// <summary>
    /// 25006: the database refused the write because it is read-only (a standby, or default_transaction_read_only set); the
    /// statement failed, so its transaction did not commit.
    /// </summary>
    private static string ReadOnlyDetail(string method) =>
        $"The prediction database accepts no writes now (it is read-only), so nothing was {(method == "POST" ? "stored" : "changed")}. Retry later.";

    /// <summary>57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, or a broken socket.</summary>
    private static bool IsDeadConnection(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.InnerException is IOException or System.Net.Sockets.SocketException,
        _ => false,
    };

    private static bool IsDatabaseUnavailable(Exception exception) => exception switch
    {
        // Connection failures, server shutting down, too many connections, pool exhausted, rolled-back transactions.
        // Class 40 (a deadlock, a serialization failure): PostgreSQL rolled the transaction back, so nothing was stored.
        // 57014 and 55P03: a statement_timeout, a cancel or a lock_timeout stopped the statement (a lock held on a table
        // the write needs, an overloaded server); PostgreSQL answered with an error, so that transaction did not commit.
        PostgresException pg => pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P", StringComparison.Ordinal)
            || pg.SqlState.StartsWith("53", StringComparison.Ordinal) || pg.SqlState.StartsWith("40", StringComparison.Ordinal)
            || pg.SqlState is PostgresErrorCodes.QueryCanceled or PostgresErrorCodes.LockNotAvailable,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is System.Net.Sockets.SocketException or TimeoutException or IOException,
        TimeoutException => true,
        _ => false,
    };
}
