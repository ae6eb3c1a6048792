using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace PredictionApi.Tests.Models;

/// <summary>A candidate version shadowing the serving one: every input is also classified by it, stored as a shadow prediction.</summary>
public sealed class ShadowTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1, 2);

    public async Task InitializeAsync()
    {
        await _service.StartAsync("shadow", new Dictionary<string, string?>
        {
            // Version 1 serves; version 2 is the candidate; a shadow that does not exist must not hurt anyone.
            ["Model:Versions:grey"] = "1",
            ["Model:Shadows:grey:0"] = "grey:2",
            ["Model:Shadows:grey:1"] = "missing",
        });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task EveryInputIsAlsoClassifiedByTheShadowAndStoredAsAShadowPredictionOfTheSameInput()
    {
        using var client = _service.Factory.CreateClient();
        var grey = await client.GetFromJsonAsync<JsonElement>("/models/grey");
        Assert.Equal("1", grey.GetProperty("version").GetString());
        Assert.Equal(["grey:2", "missing"], grey.GetProperty("shadows").EnumerateArray().Select(s => s.GetString()));

        var inputs = new Dictionary<long, int>();
        for (var n = 0; n < 6; n++)
        {
            using var response = await client.PostAsync("/prediction?model=grey", TestImages.Form(ModelFolder.Swatch(n)));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("1", body.GetProperty("model").GetProperty("version").GetString());
            inputs[body.GetProperty("input_id").GetInt64()] = n;
        }

        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        var shadows = new List<(long Id, long InputId, string Version, float[] Probabilities)>();
        for (var attempt = 0; attempt < 100 && shadows.Count < inputs.Count; attempt++)
        {
            await Task.Delay(100);
            shadows.Clear();
            await using var command = new NpgsqlCommand(
                "SELECT id, input_id, model_version, probabilities::text FROM predictions WHERE model_name = 'grey' AND shadow ORDER BY input_id", connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                shadows.Add((reader.GetInt64(0), reader.GetInt64(1), reader.GetString(2), JsonSerializer.Deserialize<float[]>(reader.GetString(3))!));
            }
        }

        Assert.Equal(inputs.Keys.Order(), shadows.Select(s => s.InputId));
        foreach (var s in shadows)
        {
            Assert.Equal("2", s.Version);
            _service.AssertGreyAnswer(s.Probabilities, "2", inputs[s.InputId]);
        }

        // The answered predictions are not shadows, and each input has exactly one of each.
        await using var counts = new NpgsqlCommand("SELECT count(*) FILTER (WHERE NOT shadow), count(*) FILTER (WHERE shadow) FROM predictions", connection);
        await using var r = await counts.ExecuteReaderAsync();
        await r.ReadAsync();
        Assert.Equal((6L, 6L), (r.GetInt64(0), r.GetInt64(1)));

        // Read back, a shadow prediction says so; the statistics count only the answers; the comparison sees all six inputs.
        var shadow = await client.GetFromJsonAsync<JsonElement>($"/prediction/{shadows[0].Id}");
        Assert.True(shadow.GetProperty("shadow").GetBoolean());
        Assert.Equal("2", shadow.GetProperty("model").GetProperty("version").GetString());
        var stats = await client.GetFromJsonAsync<JsonElement>("/predictions/stats?model=grey");
        Assert.Equal(6, stats.GetProperty("total").GetInt64());
        var compare = await client.GetFromJsonAsync<JsonElement>("/models/compare?baseline=grey:1&candidate=grey:2");
        Assert.Equal(6, compare.GetProperty("inputs").GetInt64());
    }
}
