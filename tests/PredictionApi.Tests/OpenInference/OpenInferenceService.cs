using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Npgsql;
using PredictionApi.Tests.Models;

namespace PredictionApi.Tests.OpenInference;

/// <summary>
/// The service with three models for the protocol's tests, on its own database: the shipped mnist (default), a versioned
/// "grey" (versions 2 and 10; 10 serves, 2 is on disk but not loaded) and "broken", a folder that fails to load.
/// </summary>
public sealed class OpenInferenceService : IAsyncLifetime
{
    private readonly string _models = SyntheticModels.TempModelsFolder();

    public PredictionApiFactory Factory { get; private set; } = null!;

    public string ConnectionString { get; private set; } = null!;

    public string MnistOnnx => Path.Combine(_models, "mnist", "model.onnx");

    public async Task InitializeAsync()
    {
        ModelFolder.CopyShipped(_models, "mnist");
        ModelFolder.WriteLinearVersion(_models, "grey", "2", seed: 2);
        ModelFolder.WriteLinearVersion(_models, "grey", "10", seed: 10);
        Directory.CreateDirectory(Path.Combine(_models, "broken"));
        File.WriteAllText(Path.Combine(_models, "broken", "model.onnx"), "not an onnx file");
        ConnectionString = await TestPostgres.CreateDatabaseAsync("v2");
        Factory = new PredictionApiFactory(ConnectionString, new Dictionary<string, string?> { ["Model:Directory"] = _models });
        _ = Factory.Server;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(ConnectionString);
        Directory.Delete(_models, recursive: true);
    }

    /// <summary>POSTs <paramref name="json"/> as application/json.</summary>
    public static Task<HttpResponseMessage> PostJsonAsync(HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    /// <summary>POSTs <paramref name="body"/>, serialized as it is (field names as written), and asserts a 200.</summary>
    public static async Task<JsonElement> InferAsync(HttpClient client, string path, object body)
    {
        using var response = await PostJsonAsync(client, path, JsonSerializer.Serialize(body));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"POST {path} answered {(int)response.StatusCode}: {text}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>Rows in inputs and predictions now.</summary>
    public async Task<(long Inputs, long Predictions)> CountRowsAsync()
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions)", connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>One column of the stored input of prediction <paramref name="predictionId"/>, with its prediction's model.</summary>
    public async Task<(string ContentType, int Width, int Height, int ByteSize, byte[] Sha256, string Model, string Version)> StoredAsync(long predictionId)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT i.content_type, i.width, i.height, i.byte_size, i.sha256, p.model_name, p.model_version
            FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @id
            """, connection);
        command.Parameters.AddWithValue("id", predictionId);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"prediction {predictionId} is not stored");
        return (reader.GetString(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), (byte[])reader[4], reader.GetString(5), reader.GetString(6));
    }

    /// <summary>The ids in the answer's parameters.prediction_ids.</summary>
    public static long[] PredictionIds(JsonElement answer) =>
        answer.GetProperty("parameters").GetProperty("prediction_ids").GetString()!.Split(',').Select(long.Parse).ToArray();

    /// <summary>The answer's output <paramref name="name"/>.</summary>
    public static JsonElement Output(JsonElement answer, string name) =>
        answer.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == name);

    public static Task<JsonElement> GetJsonAsync(HttpClient client, string path) => client.GetFromJsonAsync<JsonElement>(path);
}
