using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// The service on real Kestrel (127.0.0.1) with its own fresh PostgreSQL database and the default model,
/// for tests that attack it. Besides the client it offers what every such test checks afterwards: how
/// many rows exist (nothing may be half-written by a refused request) and that a normal upload still works.
/// </summary>
public sealed class HostileService : IAsyncLifetime
{
    /// <summary>The upload limit the service runs with: small, so exceeding it is cheap.</summary>
    public const int MaxBytes = 256 * 1024;

    private PredictionApiFactory? _factory;

    public PredictionApiFactory Factory => _factory ?? throw new InvalidOperationException("The fixture is not initialised.");

    public string ConnectionString { get; private set; } = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        ConnectionString = await TestPostgres.CreateDatabaseAsync("hostile");
        _factory = new PredictionApiFactory(ConnectionString, new Dictionary<string, string?> { ["Upload:MaxBytes"] = MaxBytes.ToString() });
        BaseAddress = _factory.StartKestrel();
        Client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Client?.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await TestPostgres.DropDatabaseAsync(ConnectionString);
    }

    /// <summary>Rows in inputs and predictions right now.</summary>
    public async Task<(long Inputs, long Predictions)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        return await connection.QuerySingleAsync<(long, long)>("SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions)");
    }

    /// <summary>POSTs one file as the 'file' field of a multipart form.</summary>
    public Task<HttpResponseMessage> PostFileAsync(byte[] bytes, string fileName = "digit.png", string contentType = "image/png") =>
        Client.PostAsync("/prediction", TestImages.Form(bytes, fileName, contentType));

    /// <summary>A real MNIST digit still gets a 200 with a stored prediction: the service survived what came before.</summary>
    public async Task AssertStillServingAsync(string after)
    {
        using var response = await PostFileAsync(Mnist.Png(0));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"the service should still serve after {after}: {(int)response.StatusCode} {text}");
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.Equal(7, body.GetProperty("likely_class").GetInt32());
        Assert.True(body.GetProperty("prediction_id").GetInt64() > 0);
    }
}
