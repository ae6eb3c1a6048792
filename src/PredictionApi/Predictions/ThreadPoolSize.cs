namespace PredictionApi.Predictions;

/// <summary>
/// A thread pool of eight worker threads per core (at least 16), all started on demand without delay, and no more.
/// Fewer at the start, and a probe or refusal arriving while every thread was busy waited a second for the pool to
/// notice and add one; more, and under overload the pool grew to about 50 threads on two cores and refusals waited
/// behind them for the scheduler (bench/overload.sh). Sixteen per core are plenty because nothing holds a pool thread
/// for long: an upload's decode and inference take tens of microseconds, a large image is decoded on a thread of its
/// own (ImagePredictor.PredictAsync), and database and network waits are asynchronous. The runtime's own settings,
/// DOTNET_ThreadPool_ForceMinWorkerThreads and DOTNET_ThreadPool_ForceMaxWorkerThreads, override it. The pool belongs
/// to the process: when the service is hosted in another program (the tests' in-process server), it is left as that
/// program has it.
/// </summary>
public static class ThreadPoolSize
{
    public static void Apply()
    {
        if (System.Reflection.Assembly.GetEntryAssembly() != typeof(ThreadPoolSize).Assembly ||
            Environment.GetEnvironmentVariable("DOTNET_ThreadPool_ForceMinWorkerThreads") is { Length: > 0 } ||
            Environment.GetEnvironmentVariable("DOTNET_ThreadPool_ForceMaxWorkerThreads") is { Length: > 0 })
        {
            return;
        }

        var workers = Math.Max(16, 8 * Environment.ProcessorCount);
        ThreadPool.GetMinThreads(out _, out var minPorts);
        ThreadPool.GetMaxThreads(out _, out var maxPorts);
        // The maximum first: a minimum above the maximum is refused.
        ThreadPool.SetMaxThreads(workers, maxPorts);
        ThreadPool.SetMinThreads(workers, minPorts);
    }
}
