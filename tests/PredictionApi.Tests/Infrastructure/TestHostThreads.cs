using System.Runtime.CompilerServices;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// Gives the test run's own thread pool a floor of sixteen threads per core before any test starts. This process is
/// the client of every service the tests start, and it runs hundreds of tests at once. With the runtime's floor of one
/// thread per core, a continuation of a test's HTTP call could wait for the pool's starvation check, which adds a thread
/// only every half second: a liveness probe timed from here took 0.66-0.91 s in five of eight full runs while stack
/// dumps showed the service itself idle (DecodingBudgetTests). The service's own pool is the service's business
/// (ThreadPoolCap); this floor is the test client's.
/// </summary>
internal static class TestHostThreads
{
    [ModuleInitializer]
    internal static void Raise()
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 16 * Environment.ProcessorCount), io);
    }
}
