using System.Collections.Concurrent;

namespace PredictionApi.Auth;

/// <summary>
/// Requests per minute per key, in fixed one-minute windows, on this instance (behind a load balancer each
/// instance counts its own share). A key's count is kept under its name and limit, so a key recreated with another
/// limit starts a fresh count. A refused request is told when its key's window ends, to the second (the framework's
/// fixed-window limiter reports the whole window instead).
/// </summary>
public sealed class KeyRateLimiter(TimeProvider clock)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<(string Name, int PerMinute), KeyWindow> _windows = new();

    /// <summary>Null when the request may go ahead; otherwise the seconds until the key may try again.</summary>
    public int? TryAcquire(string name, int perMinute)
    {
        var now = clock.GetUtcNow();
        var window = _windows.GetOrAdd((name, perMinute), _ => new KeyWindow(now));
        lock (window)
        {
            if (now - window.Start >= Window)
            {
                window.Start = now;
                window.Count = 0;
            }

            if (window.Count < perMinute)
            {
                window.Count++;
                return null;
            }

            return Math.Max(1, (int)Math.Ceiling((window.Start + Window - now).TotalSeconds));
        }
    }
}
