namespace PredictionApi.Imaging;

/// <summary>
/// How many decoded pixels may exist at once across all requests (4 bytes each while decoding). Every
/// decode takes its share before its bitmap is allocated and gives it back after; when there is no room,
/// it waits, and after the configured wait it is refused with 503. Large images together use at most seven
/// eighths of the budget, and one larger than that takes exactly that much, so it is decoded alone among
/// large ones rather than never. The last eighth is for small images (up to a sixty-fourth of the budget,
/// half a megapixel by default, far more than a digit): ordinary uploads do not wait behind a batch of
/// large ones. Waiters are not queued in order: whichever fits goes first.
/// </summary>
internal sealed class DecodeBudget(long capacity, TimeSpan wait)
{
    // Monitor.Wait needs a plain object; System.Threading.Lock has no condition variable.
    private readonly object _gate = new();
    private readonly TimeSpan _wait = wait;
    private long _inUse;

    // Large decodes running at once, each on a thread of its own: one per core. More only split the cores further: four
    // dozen decoding at once left the pool's threads a sliver of CPU, and /health/live took two seconds to answer.
    private readonly SemaphoreSlim _largeTurns = new(Environment.ProcessorCount);

    public long Capacity { get; } = capacity;

    /// <summary>The most pixels held at once so far.</summary>
    public long Peak { get; private set; }

    private long LargeLimit => Capacity - Capacity / 8;

    /// <summary>Whether a decode of <paramref name="pixels"/> is a large one: beyond a sixty-fourth of the budget.</summary>
    public bool IsLarge(long pixels) => pixels > Capacity / 64;

    /// <summary>Takes room for <paramref name="pixels"/>; returns the share to pass to <see cref="Release"/>.</summary>
    public long Acquire(long pixels)
    {
        var share = Math.Min(pixels, LargeLimit);
        var limit = IsLarge(share) ? LargeLimit : Capacity;
        var deadline = DateTime.UtcNow + _wait;
        lock (_gate)
        {
            while (_inUse + share > limit)
            {
                var left = deadline - DateTime.UtcNow;
                if (left <= TimeSpan.Zero || !Monitor.Wait(_gate, left))
                {
                    throw new ImageRejectedException(StatusCodes.Status503ServiceUnavailable, "Busy decoding",
                        $"The service is decoding other large images and could not start this one ({pixels / 1e6:0.#} megapixels) within {_wait.TotalSeconds:0} s. Retry shortly, or send a smaller image.");
                }
            }

            _inUse += share;
            Peak = Math.Max(Peak, _inUse);
        }

        return share;
    }

    /// <summary>
    /// Waits, without holding a thread, for a turn to decode a large image; refused with 503 after the configured wait.
    /// Give the turn back with <see cref="EndLargeTurn"/>.
    /// </summary>
    public async Task TakeLargeTurnAsync()
    {
        if (!await _largeTurns.WaitAsync(_wait))
        {
            throw new ImageRejectedException(StatusCodes.Status503ServiceUnavailable, "Busy decoding",
                $"The service is decoding other large images and could not start this one within {_wait.TotalSeconds:0} s. Retry shortly, or send a smaller image.");
        }
    }

    public void EndLargeTurn() => _largeTurns.Release();

    public void Release(long share)
    {
        lock (_gate)
        {
            _inUse -= share;
            Monitor.PulseAll(_gate);
        }
    }
}
