using System.Globalization;
using Dapper;
using Npgsql;

namespace PredictionApi.Storage;

/// <summary>
/// Logs a PostgreSQL outage as an operator reads it: one warning when it starts, with its cause, a summary
/// every <see cref="SummaryInterval"/> while it lasts, and one when it ends, instead of a warning with a
/// stack trace for every request it fails. The end is observed by probing: once the first request has
/// failed, a query runs every <see cref="ProbeInterval"/> until PostgreSQL answers, so the end is logged
/// when the database is back, whether or not requests arrive then.
/// </summary>
internal sealed class DatabaseOutage(NpgsqlDataSource dataSource, ILogger<DatabaseOutage> logger) : IAsyncDisposable
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();
    private Task? _probe;
    private long _failed;
    private long _failedSinceSummary;
    private string _lastCause = "";

    /// <summary>A request failed because PostgreSQL is unavailable (it was answered 503).</summary>
    public void RequestFailed(Exception cause)
    {
        lock (_lock)
        {
            _failed++;
            _failedSinceSummary++;
            _lastCause = Describe(cause);
            if (_probe is not null || _disposed.IsCancellationRequested)
            {
                return;
            }

            logger.LogWarning(
                "PostgreSQL is unavailable: {Cause}. Requests that need it are answered 503 until it is back; " +
                "this is summarised every {Interval:0} s instead of logged per request", _lastCause, SummaryInterval.TotalSeconds);
            _probe = Task.Run(() => ProbeUntilBackAsync(_disposed.Token));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? probe;
        lock (_lock)
        {
            _disposed.Cancel();
            probe = _probe;
        }

        if (probe is not null)
        {
            await probe;
        }

        _disposed.Dispose();
    }

    private async Task ProbeUntilBackAsync(CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var summarised = started;
        try
        {
            while (true)
            {
                await Task.Delay(ProbeInterval, cancellationToken);
                if (await AnswersAsync(cancellationToken))
                {
                    break;
                }

                if (TimeProvider.System.GetElapsedTime(summarised) >= SummaryInterval)
                {
                    summarised = TimeProvider.System.GetTimestamp();
                    long failed;
                    string cause;
                    lock (_lock)
                    {
                        (failed, cause, _failedSinceSummary) = (_failedSinceSummary, _lastCause, 0);
                    }

                    logger.LogWarning("PostgreSQL is still unavailable after {Elapsed}: {Failed} requests failed in the last {Interval:0} s ({Cause})",
                        Format(TimeProvider.System.GetElapsedTime(started)), failed, SummaryInterval.TotalSeconds, cause);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The service is stopping; whether PostgreSQL came back is for the next run to find out.
            return;
        }

        long total;
        lock (_lock)
        {
            (total, _failed, _failedSinceSummary, _probe) = (_failed, 0, 0, null);
        }

        // A warning too, so a log read at warning level shows where the outage ended.
        logger.LogWarning("PostgreSQL answers again after {Elapsed}; {Failed} requests failed during the outage",
            Format(TimeProvider.System.GetElapsedTime(started)), total);
    }

    private async Task<bool> AnswersAsync(CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(5));
            await using var connection = await dataSource.OpenConnectionAsync(timeout.Token);
            await connection.ExecuteScalarAsync<int>(new CommandDefinition("SELECT 1", cancellationToken: timeout.Token));
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return false;
        }
    }

    /// <summary>The message, and the socket error or SQL state under it, without a stack trace: the cause is all an outage needs.</summary>
    private static string Describe(Exception e) => e switch
    {
        PostgresException pg => $"{pg.SqlState}: {pg.MessageText}",
        { InnerException: { } inner } when inner.Message != e.Message => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };

    private static string Format(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0 's'", CultureInfo.InvariantCulture);
}
