using PredictionApi.Auth;

namespace PredictionApi.Tests.Auth;

/// <summary>Per-key limits in one-minute windows, and a Retry-After that is the time left in the key's window.</summary>
public sealed class KeyRateLimiterTests
{
    [Fact]
    public void ARefusalSaysWhenTheKeysWindowEndsAndTheNextWindowAdmitsAgain()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero));
        var limiter = new KeyRateLimiter(clock);
        for (var i = 0; i < 3; i++)
        {
            Assert.Null(limiter.TryAcquire("k", 3));
        }

        clock.Now += TimeSpan.FromSeconds(20.5);
        Assert.Equal(40, limiter.TryAcquire("k", 3));
        clock.Now += TimeSpan.FromSeconds(39);
        Assert.Equal(1, limiter.TryAcquire("k", 3));
        // Another key, and the same key recreated with another limit, count apart.
        Assert.Null(limiter.TryAcquire("other", 3));
        Assert.Null(limiter.TryAcquire("k", 4));

        clock.Now += TimeSpan.FromSeconds(0.5);
        Assert.Null(limiter.TryAcquire("k", 3));
    }

    private sealed class ManualClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
