using System.Diagnostics;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Observability;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// Group commit: uploads waiting to be stored share one statement and one commit, instead of paying a
/// transaction and a WAL flush each. Every caller gets its own rows' ids only after the group committed,
/// so a 200 still means that upload is durable; if the group fails, every upload in it gets the same
/// failure (nothing stored, or an unknown outcome when the connection broke while the commit was awaited),
/// and nothing is half-written, since the group is a single statement. On shutdown the writers finish
/// what is queued before they stop. At most GroupCommit:Writers groups are written at once; an upload that
/// finds nothing being written and nothing queued writes itself, without handing over to a writer task
/// and back (which costs a quiet service two thread wake-ups per upload).
/// </summary>
public sealed class GroupCommit(NpgsqlDataSource dataSource, IOptions<GroupCommitOptions> options, ServiceMetrics metrics, ILogger<GroupCommit> logger) : IHostedService
{
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>();
    // A place per group being written, taken by a writer task or by an upload writing itself.
    private readonly SemaphoreSlim _places = new(options.Value.Writers, options.Value.Writers);
    private readonly int _writerCount = options.Value.Writers;
    private Task[] _writers = [];
    private volatile bool _stopping;

    /// <summary>Stores <paramref name="pairs"/> in the next group; completes once they are committed.</summary>
    public Task<IReadOnlyList<StoredIds>> WriteAsync(IReadOnlyList<PendingPair> pairs)
    {
        // Only when nothing at all is being written: under load, uploads wait a moment and share a group instead.
        if (!_stopping && _places.CurrentCount == _writerCount && _queue.Reader.Count == 0 && _places.Wait(0))
        {
            return WriteAloneAsync(pairs);
        }

        var write = new PendingWrite(pairs);
        if (!_queue.Writer.TryWrite(write))
        {
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Service unavailable",
                "The service is shutting down, so nothing was stored. Retry the request.");
        }

        return write.Completion.Task;
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        metrics.ObserveQueue(() => _queue.Reader.CanCount ? _queue.Reader.Count : 0);
        _writers = Enumerable.Range(0, options.Value.Writers).Select(_ => Task.Run(WriteGroupsAsync, CancellationToken.None)).ToArray();
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_writers).WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Stopped before every queued upload was written; their requests failed.");
        }
    }

    private async Task WriteGroupsAsync()
    {
        var limits = options.Value;
        var reader = _queue.Reader;
        var group = new List<PendingWrite>();
        PendingWrite? carried = null;
        while (carried is not null || await reader.WaitToReadAsync())
        {
            // The place first, then the group: what arrives while this writer waits for a place joins its group.
            await _places.WaitAsync();
            try
            {
                group.Clear();
                long pairs = 0, bytes = 0;
                // Take what is waiting, never more than the bounds (one oversized write still goes alone).
                while ((carried ?? (reader.TryRead(out var next) ? next : null)) is { } write)
                {
                    carried = null;
                    if (group.Count > 0 && (pairs + write.Pairs.Count > limits.MaxPairs || bytes + write.Bytes > limits.MaxBytes))
                    {
                        carried = write;
                        break;
                    }

                    group.Add(write);
                    pairs += write.Pairs.Count;
                    bytes += write.Bytes;
                }

                if (group.Count > 0)
                {
                    await CommitAsync(group);
                }
            }
            finally
            {
                _places.Release();
            }
        }
    }

    /// <summary>An upload that found the queue empty and a place free: it is a group of one, written by its own request.</summary>
    private async Task<IReadOnlyList<StoredIds>> WriteAloneAsync(IReadOnlyList<PendingPair> pairs)
    {
        try
        {
            return await StoreAsync(pairs);
        }
        finally
        {
            _places.Release();
        }
    }

    private async Task CommitAsync(List<PendingWrite> group)
    {
        try
        {
            var all = group.Count == 1 ? group[0].Pairs : group.SelectMany(w => w.Pairs).ToList();
            var ids = await StoreAsync(all);
            var offset = 0;
            foreach (var write in group)
            {
                write.Completion.TrySetResult(ids.Skip(offset).Take(write.Pairs.Count).ToArray());
                offset += write.Pairs.Count;
            }
        }
        catch (Exception e)
        {
            foreach (var write in group)
            {
                write.Completion.TrySetException(e);
            }
        }
    }

    /// <summary>Inserts and commits one group with one statement, written again when PostgreSQL rolled it back.</summary>
    private async Task<IReadOnlyList<StoredIds>> StoreAsync(IReadOnlyList<PendingPair> all)
    {
        var started = Stopwatch.GetTimestamp();
        IReadOnlyList<StoredIds> ids;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync();
                // One statement is one transaction: the whole group commits, or none of it.
                ids = await CommitStep.RunAsync(() => PredictionWriter.InsertPairsAsync(connection, all, CancellationToken.None));
                break;
            }
            catch (PostgresException e) when (attempt < 3 && e.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure)
            {
                // PostgreSQL rolled the group back (schema changes of a starting instance, for one), so it can be written again.
                logger.LogInformation("A group of {Count} uploads was rolled back ({Reason}); writing it again", all.Count, e.SqlState);
            }
        }

        metrics.DatabaseWrite.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        metrics.GroupSize.Record(all.Count);
        return ids;
    }

    private sealed class PendingWrite(IReadOnlyList<PendingPair> pairs)
    {
        public IReadOnlyList<PendingPair> Pairs { get; } = pairs;

        public long Bytes { get; } = pairs.Sum(p => p.Bytes);

        public TaskCompletionSource<IReadOnlyList<StoredIds>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
