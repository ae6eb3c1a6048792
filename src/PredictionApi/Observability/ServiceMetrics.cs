using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace PredictionApi.Observability;

/// <summary>
/// The service's own metrics and trace spans, beside ASP.NET Core's and Npgsql's: what was stored, how long
/// each stage took, how large the commit groups were, and what was refused. Labels are bounded (model
/// names and versions, statuses and problem titles), never ids, file names or paths.
/// </summary>
public sealed class ServiceMetrics
{
    public const string Name = "PredictionApi";

    public static readonly ActivitySource Tracing = new(Name);

    // Stages take microseconds to seconds; the exporter's default buckets are meant for milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.00001, 0.00002, 0.00005, 0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10],
    };

    private readonly Meter _meter;

    // From the host's meter factory, so each host (and each test's) has its own instruments, disposed with it.
    public ServiceMetrics(IMeterFactory meters)
    {
        _meter = meters.Create(Name);
        Stored = _meter.CreateCounter<long>("predictionapi.predictions.stored", "{prediction}",
            "Predictions committed to PostgreSQL, by model and version.");
        Preprocessing = _meter.CreateHistogram<double>("predictionapi.preprocess.duration", "s",
            "Decoding an upload and preparing the model's input tensor.", advice: Seconds);
        Inference = _meter.CreateHistogram<double>("predictionapi.inference.duration", "s",
            "Running the model on one input tensor.", advice: Seconds);
        DatabaseWrite = _meter.CreateHistogram<double>("predictionapi.database.write.duration", "s",
            "Writing and committing one group of uploads.", advice: Seconds);
        GroupSize = _meter.CreateHistogram<int>("predictionapi.group.size", "{upload}",
            "Input + prediction pairs committed together by one statement.", advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512] });
        Refusals = _meter.CreateCounter<long>("predictionapi.refusals", "{request}",
            "Requests answered with a problem, by status and title.");
        Shadow = _meter.CreateCounter<long>("predictionapi.shadow.predictions", "{prediction}",
            "Shadow classifications, by shadow model and outcome (stored, dropped when the queue was full, failed).");
        RateLimited = _meter.CreateCounter<long>("predictionapi.rate_limited", "{request}",
            "Requests refused with 429 because their API key used its requests per minute, by key name.");
    }

    public Counter<long> Stored { get; }

    public Histogram<double> Preprocessing { get; }

    public Histogram<double> Inference { get; }

    public Histogram<double> DatabaseWrite { get; }

    public Histogram<int> GroupSize { get; }

    public Counter<long> Refusals { get; }

    public Counter<long> Shadow { get; }

    /// <summary>By key name: operators choose a handful of names, so the label stays bounded.</summary>
    public Counter<long> RateLimited { get; }

    /// <summary>Each loaded model version, as a gauge of 1 labelled with its name, version and sha256.</summary>
    public void ObserveModels(Func<IEnumerable<(string Name, string Version, string Sha256)>> models) =>
        _meter.CreateObservableGauge("predictionapi.model.info", () =>
            models().Select(m => new Measurement<int>(1, new("model", m.Name), new("version", m.Version), new("sha256", m.Sha256))),
            description: "Each loaded model version: 1, labelled with its name, version and sha256.");

    /// <summary>Uploads waiting for a group-commit writer.</summary>
    public void ObserveQueue(Func<int> depth) =>
        _meter.CreateObservableGauge("predictionapi.group.queue", depth, "{upload}", "Uploads waiting for a group-commit writer.");
}
