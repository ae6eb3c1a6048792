using System.Globalization;

namespace PredictionApi.Observability;

/// <summary>
/// Logs an outage of a dependency as an operator reads it: one warning when it starts, with its cause, a summary
/// every <see cref="SummaryInterval"/> while it lasts, and one when it ends, instead of a warning with a stack
/// trace for every request it fails. The end is observed by probing: once the first request has failed, the
/// dependency is asked every <see cref="ProbeInterval"/> until it answers and no request failed since the last
/// probe, so the end is logged when it is back, whether or not requests arrive then, and a dependency that
/// answers a probe but still fails the requests (a lock held on a table, a statement timeout) is one outage,
/// not one per probe.
/// </summary>
public abstract class OutageLog(string dependency, ILogger logger) : IAsyncDisposable
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();
    private Task? _probe;
    private long _failed;
    private long _failedSinceSummary;
    private long _failedSinceProbe;
    private string _lastCause = "";

    /// <summary>A request failed because the dependency is unavailable (it was answered 503).</summary>
    public void RequestFailed(Exception cause)
    {
        lock (_lock)
        {
            _failed++;
            _failedSinceSummary++;
            _failedSinceProbe++;
            _lastCause = Describe(cause);
            if (_probe is not null || _disposed.IsCancellationRequested)
            {
                return;
            }

            logger.LogWarning(
                "{Dependency} is unavailable: {Cause}. Requests that need it are answered 503 until it is back; " +
                "this is summarised every {Interval:0} s instead of logged per request", dependency, _lastCause, SummaryInterval.TotalSeconds);
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

    /// <summary>True when the dependency answers a cheap request within a few seconds.</summary>
    protected abstract Task<bool> AnswersAsync(CancellationToken cancellationToken);

    /// <summary>The cause in one line, without a stack trace: the cause is all an outage needs.</summary>
    protected virtual string Describe(Exception e) => e switch
    {
        { InnerException: { } inner } when inner.Message != e.Message => $"{e.Message} ({inner.Message})",
        _ => e.Message,
    };

    private async Task ProbeUntilBackAsync(CancellationToken cancellationToken)
    {
        var started = TimeProvider.System.GetTimestamp();
        var summarised = started;
        try
        {
            while (true)
            {
                await Task.Delay(ProbeInterval, cancellationToken);
                var answers = await AnswersAsync(cancellationToken);
                lock (_lock)
                {
                    var failedMeanwhile = _failedSinceProbe;
                    _failedSinceProbe = 0;
                    if (answers && failedMeanwhile == 0)
                    {
                        break;
                    }
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

                    logger.LogWarning("{Dependency} is still unavailable after {Elapsed}: {Failed} requests failed in the last {Interval:0} s ({Cause})",
                        dependency, Format(TimeProvider.System.GetElapsedTime(started)), failed, SummaryInterval.TotalSeconds, cause);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The service is stopping; whether the dependency came back is for the next run to find out.
            return;
        }

        long total;
        lock (_lock)
        {
            (total, _failed, _failedSinceSummary, _probe) = (_failed, 0, 0, null);
        }

        // A warning too, so a log read at warning level shows where the outage ended.
        logger.LogWarning("{Dependency} answers again after {Elapsed}; {Failed} requests failed during the outage",
            dependency, Format(TimeProvider.System.GetElapsedTime(started)), total);
    }

    private static string Format(TimeSpan elapsed) => elapsed.TotalSeconds.ToString("0.0 's'", CultureInfo.InvariantCulture);
}
