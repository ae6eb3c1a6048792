namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The service running on real Kestrel at 127.0.0.1 with its own fresh PostgreSQL database and the
/// default model, for tests that need a real socket (the browser tests). Use it as a class fixture;
/// <see cref="BaseAddress"/> is where the service listens and <see cref="Client"/> talks to it.
/// </summary>
public sealed class LiveServiceFixture : IAsyncLifetime
{
    private PredictionApiFactory? _factory;
    private string? _database;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public PredictionApiFactory Factory => _factory ?? throw new InvalidOperationException("The fixture is not initialised.");

    public string ConnectionString => _database ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("live");
        _factory = new PredictionApiFactory(_database);
        BaseAddress = _factory.StartKestrel();
        Client = new HttpClient { BaseAddress = BaseAddress };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        if (_database is not null)
        {
            await TestPostgres.DropDatabaseAsync(_database);
        }
    }
}
