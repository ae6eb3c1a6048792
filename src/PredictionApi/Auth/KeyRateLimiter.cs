using System.Threading.RateLimiting;

namespace PredictionApi.Auth;

/// <summary>
/// Requests per minute per key, in fixed one-minute windows, on this instance (behind a load balancer each
/// instance counts its own share). A key's partition is its name and limit, so a key recreated with another
/// limit starts a fresh count.
/// </summary>
public sealed class KeyRateLimiter : IDisposable
{
    private readonly PartitionedRateLimiter<(string Name, int PerMinute)> _limiter =
        PartitionedRateLimiter.Create<(string Name, int PerMinute), (string Name, int PerMinute)>(key =>
            RateLimitPartition.GetFixedWindowLimiter(key, k => new FixedWindowRateLimiterOptions
            {
                PermitLimit = k.PerMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                // The partitioned limiter's own timer replenishes its partitions.
                AutoReplenishment = false,
            }));

    /// <summary>Null when the request may go ahead; otherwise the seconds until the key may try again.</summary>
    public int? TryAcquire(string name, int perMinute)
    {
        using var lease = _limiter.AttemptAcquire((name, perMinute));
        if (lease.IsAcquired)
        {
            return null;
        }

        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) ? Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)) : 60;
    }

    public void Dispose() => _limiter.Dispose();
}
