namespace PredictionApi.Predictions;

/// <summary>
/// Caps the thread pool at eight worker threads per core (at least 16). An upload is short CPU work (decode and
/// inference take tens of microseconds), yet the pool's heuristics grew it to about 50 threads on two cores under
/// overload, and the refusals of an overloaded service waited behind them for the scheduler (bench/overload.sh).
/// The cap is safe because nothing holds a pool thread for long: large images are decoded on threads of their own
/// (ImagePredictor.PredictAsync), and database and network waits are asynchronous. The runtime's own setting,
/// DOTNET_ThreadPool_ForceMaxWorkerThreads, overrides it.
/// </summary>
public static class ThreadPoolCap
{
    public const string Override = "DOTNET_ThreadPool_ForceMaxWorkerThreads";

    public static void Apply()
    {
        if (Environment.GetEnvironmentVariable(Override) is { Length: > 0 })
        {
            return;
        }

        ThreadPool.GetMaxThreads(out _, out var completionPorts);
        ThreadPool.SetMaxThreads(Math.Max(16, 8 * Environment.ProcessorCount), completionPorts);
    }
}
