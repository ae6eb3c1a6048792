namespace PredictionApi.Inference;

/// <summary>
/// Loads every model to serve at start-up (a broken default model stops the service with a clear message instead
/// of failing the first request; another broken model shows as failed in GET /models), each warmed up by one
/// inference so the first caller does not pay for it.
/// </summary>
internal sealed class ModelWarmup(ModelRegistry registry) : IHostedService
{
    private volatile bool _ready;

    /// <summary>True once the models were loaded.</summary>
    public bool Ready => _ready;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await registry.LoadAllAsync(cancellationToken);
        }
        catch (ModelUnavailableException e)
        {
            // The default model: the service cannot start without it; the message names what to fix.
            throw new ModelConfigurationException(e.Message);
        }

        _ready = true;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
