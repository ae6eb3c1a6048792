namespace PredictionApi.Tests.Infrastructure;

/// <summary>The service in memory (TestServer) with the default model on its own fresh database.</summary>
public sealed class ServiceFixture : IAsyncLifetime
{
    public PredictionApiFactory Factory { get; private set; } = null!;

    public string ConnectionString { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateDatabaseAsync("http");
        Factory = new PredictionApiFactory(ConnectionString);
        // Building the host applies the schema and loads the model, as at a real start.
        _ = Factory.Server;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }
}
