namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// The service in memory on a fresh database of its own, with configuration overrides (keys as in appsettings): for a
/// test class whose settings differ from <see cref="ServiceFixture"/>'s defaults. Create it in InitializeAsync and
/// dispose it in DisposeAsync.
/// </summary>
public sealed class ConfiguredService : IAsyncDisposable
{
    private ConfiguredService(string database, PredictionApiFactory factory) => (Database, Factory) = (database, factory);

    public string Database { get; }

    public PredictionApiFactory Factory { get; }

    public static async Task<ConfiguredService> CreateAsync(string name, IReadOnlyDictionary<string, string?> settings)
    {
        var database = await TestPostgres.CreateDatabaseAsync(name);
        return new ConfiguredService(database, new PredictionApiFactory(database, settings));
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(Database);
    }
}
