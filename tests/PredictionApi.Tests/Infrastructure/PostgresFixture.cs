namespace PredictionApi.Tests.Infrastructure;

/// <summary>
/// A fresh database on the shared test PostgreSQL (see <see cref="TestPostgres"/>), dropped afterwards.
/// Use it as a collection fixture ([Collection(PostgresCollection.Name)]) or a class fixture.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private string? _connectionString;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("The fixture is not initialised.");

    public async Task InitializeAsync() => _connectionString = await TestPostgres.CreateDatabaseAsync("fixture");

    public Task DisposeAsync() => _connectionString is null ? Task.CompletedTask : TestPostgres.DropDatabaseAsync(_connectionString);
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}
