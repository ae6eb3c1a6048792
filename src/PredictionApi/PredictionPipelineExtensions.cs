using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Observability;
using PredictionApi.Predictions;
using PredictionApi.Problems;
using PredictionApi.Storage;
using PredictionApi.Storage.InputStores;

namespace PredictionApi;

/// <summary>
/// Everything that turns an image into stored prediction rows, registered once for both hosts that do it:
/// the web service and the <c>predict</c> command, so their settings are validated and behave alike.
/// </summary>
public static class PredictionPipelineExtensions
{
    public static WebApplicationBuilder AddPredictionPipeline(this WebApplicationBuilder builder) => builder
        // Every error is an RFC 7807 problem details body.
        .AddProblems()
        // Metrics at /metrics, traces over OTLP when configured.
        .AddObservability()
        // PostgreSQL: one NpgsqlDataSource, schema applied at start-up; a private local cluster without a connection string.
        .AddStorage()
        // Where uploaded images live: PostgreSQL (default) or an S3-compatible bucket, with the object deletion outbox.
        .AddInputStorage()
        // The ONNX model from Model:Directory/Model:Name, loaded and warmed up before requests arrive.
        .AddInference()
        // Decoding and preprocessing uploads into the model's input tensor.
        .AddImaging()
        // Upload limits and retention; storing, reading and deleting predictions.
        .AddPredictions();
}
