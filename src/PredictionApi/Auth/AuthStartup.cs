using Microsoft.Extensions.Options;
using Npgsql;

namespace PredictionApi.Auth;

/// <summary>Says once, at start-up, whether API keys are required: an open service on a network should be a decision, not a surprise.</summary>
internal sealed class AuthStartup(ApiKeyStore store, IOptions<AuthOptions> options, ILogger<AuthStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var exempt = options.Value.MetricsPublic ? "health, metrics, the web page and the API reference" : "health, the web page and the API reference";
        if (options.Value.Required)
        {
            logger.LogInformation("API keys: on (Auth:Required=true); every request needs a key except {Exempt}", exempt);
            return;
        }

        try
        {
            if (await store.AnyAsync(cancellationToken))
            {
                logger.LogInformation("API keys: on (keys exist); every request needs a key except {Exempt}", exempt);
            }
            else
            {
                logger.LogInformation("API keys: off; no key exists, so every endpoint answers without one. 'keys create' makes the first and turns keys on");
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            logger.LogWarning("API keys: the database could not say whether keys exist ({Reason}); requests are refused until it does", e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
