namespace PredictionApi.Inference;

/// <summary>
/// Loads the model at start-up (a broken model folder stops the service with a clear message instead
/// of failing the first request) and runs one inference so the first caller does not pay for warm-up.
/// </summary>
internal sealed class ModelWarmup(IServiceProvider services) : IHostedService
{
    private volatile bool _ready;

    /// <summary>True once the model answered its warm-up inference.</summary>
    public bool Ready => _ready;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var classifier = services.GetRequiredService<ImageClassifier>();
        classifier.Classify(new float[classifier.Spec.Input.TensorLength], new float[classifier.Spec.Output.Classes]);
        _ready = true;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
