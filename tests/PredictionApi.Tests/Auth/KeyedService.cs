using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using PredictionApi.Auth;

namespace PredictionApi.Tests.Auth;

/// <summary>
/// The service on a database of its own in which keys exist, so it requires them, with every log entry
/// captured at every level. Its own database: a key in a shared one would switch other tests' service to 401.
/// </summary>
public sealed class KeyedService : IAsyncLifetime
{
    private PredictionApiFactory _base = null!;

    public string ConnectionString { get; private set; } = null!;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public ApiKeyStore Store { get; private set; } = null!;

    public WebApplicationFactory<Program> Factory { get; private set; } = null!;

    public LogCapture Logs { get; } = new();

    /// <summary>A key with every scope.</summary>
    public string AllScopes { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateDatabaseAsync("keys");
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        _base = new PredictionApiFactory(ConnectionString);
        Factory = _base.WithWebHostBuilder(builder => builder.ConfigureLogging(logging =>
        {
            logging.AddProvider(Logs);
            logging.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));
        // Starting the host applies the schema; the first key then turns keys on.
        _ = Factory.Server;
        Store = new ApiKeyStore(DataSource);
        AllScopes = await CreateAsync("all", "predict", "read", "feedback", "admin");
    }

    /// <summary>Creates a key with a unique name starting with <paramref name="name"/>; returns the key.</summary>
    public async Task<string> CreateAsync(string name, params string[] scopes) => (await CreateKeyAsync(name, scopes)).Key;

    public async Task<(ApiKey Row, string Key)> CreateKeyAsync(string name, string[] scopes, DateTime? expiresAt = null, int? requestsPerMinute = null)
    {
        var created = await Store.CreateAsync($"{name}-{Guid.NewGuid():N}"[..Math.Min(64, name.Length + 9)], scopes, expiresAt, requestsPerMinute, CancellationToken.None);
        return created ?? throw new InvalidOperationException("The key name was taken.");
    }

    /// <summary>A client that sends <paramref name="key"/> as a bearer token (or none).</summary>
    public HttpClient Client(string? key = null)
    {
        var client = Factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (key is not null)
        {
            client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        }

        return client;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await _base.DisposeAsync();
        await DataSource.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }
}
