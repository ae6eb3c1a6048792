using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Auth;

/// <summary>
/// Answers the two questions every request asks: are keys required, and which key is this? Both answers are
/// kept for Auth:CacheSeconds, so a request costs no query while the cache is fresh, and a revoked key or a
/// first key created by another process takes effect on every instance within that time.
/// </summary>
public sealed class KeyVerifier(ApiKeyStore store, IOptions<AuthOptions> options, ILogger<KeyVerifier> logger)
{
    // last_used_at is a hint for operators: written at most this often per key and instance, never per request.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, CachedKey> _keys = new();
    private readonly ConcurrentDictionary<long, long> _touched = new();
    private readonly SemaphoreSlim _modeRefresh = new(1, 1);
    private volatile CachedMode? _mode;

    private TimeSpan Ttl => TimeSpan.FromSeconds(options.Value.CacheSeconds);

    /// <summary>
    /// True when requests need a key: Auth:Required, or a key exists (revoked and expired ones count, so a
    /// service never reopens by itself). While the database cannot say, the last answer stands.
    /// </summary>
    public async ValueTask<bool> RequiredAsync(CancellationToken cancellationToken)
    {
        if (options.Value.Required)
        {
            return true;
        }

        var mode = _mode;
        if (mode is not null && (Stopwatch.GetElapsedTime(mode.CheckedAt) < Ttl || !_modeRefresh.Wait(0)))
        {
            // Fresh, or another request is refreshing it right now.
            return mode.KeysExist;
        }

        if (mode is null)
        {
            await _modeRefresh.WaitAsync(cancellationToken);
        }

        try
        {
            if (_mode is { } current && current != mode)
            {
                return current.KeysExist;
            }

            var exist = await store.AnyAsync(cancellationToken);
            _mode = new CachedMode(exist, Stopwatch.GetTimestamp());
            return exist;
        }
        catch (Exception e) when (mode is not null && e is NpgsqlException or TimeoutException)
        {
            return mode.KeysExist;
        }
        finally
        {
            _modeRefresh.Release();
        }
    }

    /// <summary>The key <paramref name="key"/> is (possibly revoked or expired), or null when it is not a key of this service.</summary>
    public async ValueTask<ApiKey?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var hash = ApiKeyTokens.Hash(key);
        var id = Convert.ToHexString(hash);
        if (_keys.TryGetValue(id, out var cached) && Stopwatch.GetElapsedTime(cached.FetchedAt) < Ttl && CryptographicOperations.FixedTimeEquals(cached.Hash, hash))
        {
            return cached.Row;
        }

        // Looked up by its hash, then compared in constant time; unknown keys are not cached, so guesses cannot fill memory.
        var found = await store.FindAsync(hash, cancellationToken);
        if (found is not { } row || !CryptographicOperations.FixedTimeEquals(row.Hash, hash))
        {
            _keys.TryRemove(id, out _);
            return null;
        }

        _keys[id] = new CachedKey(row.Row, row.Hash, Stopwatch.GetTimestamp());
        return row.Row;
    }

    /// <summary>Notes that <paramref name="key"/> was used; writes last_used_at in the background when it is a minute old.</summary>
    public void Used(ApiKey key)
    {
        var now = Stopwatch.GetTimestamp();
        var last = _touched.GetOrAdd(key.Id, 0L);
        if (last != 0 ? Stopwatch.GetElapsedTime(last, now) < TouchInterval : key.LastUsedAt > DateTime.UtcNow - TouchInterval)
        {
            return;
        }

        // Only the request that wins the swap writes.
        if (_touched.TryUpdate(key.Id, now, last))
        {
            _ = TouchAsync(key.Id);
        }
    }

    private async Task TouchAsync(long id)
    {
        try
        {
            await store.TouchAsync(id, DateTime.UtcNow, CancellationToken.None);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or ObjectDisposedException)
        {
            // The next use a minute later tries again; an outage is reported by the requests that need the database.
            logger.LogDebug("last_used_at of key {Id} was not written: {Reason}", id, e.Message);
        }
    }

    private sealed record CachedKey(ApiKey Row, byte[] Hash, long FetchedAt);

    private sealed record CachedMode(bool KeysExist, long CheckedAt);
}
