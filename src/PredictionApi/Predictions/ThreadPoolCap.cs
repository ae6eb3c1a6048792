namespace PredictionApi.Predictions;

/// <summary>
/// Caps the thread pool at eight worker threads per core (at least 16); the minimum stays the runtime's. An upload is
/// short CPU work (decode and inference take tens of microseconds), yet the pool grew to about 50 threads on two cores
/// under overload, and the refusals of an overloaded service waited behind them for the scheduler: with the cap the
/// pool keeps about 6, and the slowest refusal fell from 50-70 ms to 20-25 ms (bench/overload.sh). The cap is safe
/// because no request waits on a pool thread: a large image is decoded on a thread of its own
/// (ImagePredictor.PredictAsync), a JPEG's scans are bounded, and database and network waits are asynchronous. What
/// still runs long on one (a model loading, a heavy model's inference) holds one thread of sixteen or more, not the
/// pool. The runtime's own setting, DOTNET_ThreadPool_ForceMaxWorkerThreads, overrides it. The pool belongs to the
/// process: when the service is hosted in another program (the tests' in-process server), it is left as that program
/// has it.
/// </summary>
public static class ThreadPoolCap
{
    public static void Apply()
    {
        if (System.Reflection.Assembly.GetEntryAssembly() != typeof(ThreadPoolCap).Assembly ||
            Environment.GetEnvironmentVariable("DOTNET_ThreadPool_ForceMaxWorkerThreads") is { Length: > 0 })
        {
            return;
        }

        ThreadPool.GetMaxThreads(out _, out var completionPorts);
        ThreadPool.SetMaxThreads(Math.Max(16, 8 * Environment.ProcessorCount), completionPorts);
    }
}
