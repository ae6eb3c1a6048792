using System.Diagnostics;
using System.Net;

namespace PredictionApi.Tests.Hostile;

/// <summary>/health/live asked every 20 ms while heavy work runs, each answer a 200: how long the slowest one took.</summary>
internal static class Liveness
{
    /// <summary>Probes until <paramref name="running"/> completes; <paramref name="afterEach"/> runs after every answer.</summary>
    public static async Task<TimeSpan> SlowestWhileAsync(HttpClient client, Task running, Action? afterEach = null)
    {
        var slowest = TimeSpan.Zero;
        while (!running.IsCompleted)
        {
            var watch = Stopwatch.StartNew();
            using (var live = await client.GetAsync("/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            slowest = TimeSpan.FromTicks(Math.Max(slowest.Ticks, watch.Elapsed.Ticks));
            afterEach?.Invoke();
            await Task.Delay(20);
        }

        return slowest;
    }
}
