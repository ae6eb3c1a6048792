using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;

namespace PredictionApi.Tests.Models;

/// <summary>Load-then-swap under load: versions change while requests run, and none fails or is stored under the wrong version.</summary>
public sealed class LiveSwapTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1, 2);

    public async Task InitializeAsync()
    {
        await _service.StartAsync("swap");
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task TwentySwapsUnderConcurrentLoadFailNoRequestAndEveryPredictionCarriesTheVersionThatAnsweredIt()
    {
        var baseAddress = _service.Factory.StartKestrel();
        using var client = new HttpClient { BaseAddress = baseAddress };
        var answers = new ConcurrentBag<(long Id, string Version, int Swatch, float[] Probabilities)>();
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        async Task Load(int worker)
        {
            for (var n = worker; !stop.IsCancellationRequested; n += 4)
            {
                using var response = await client.PostAsync("/prediction?model=grey", TestImages.Form(ModelFolder.Swatch(n)));
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    failures.Add($"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                    continue;
                }

                var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                answers.Add((body.GetProperty("prediction_id").GetInt64(), body.GetProperty("model").GetProperty("version").GetString()!, n,
                    body.GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray()));
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Load(w))).ToArray();
        for (var swap = 0; swap < 20; swap++)
        {
            var version = swap % 2 == 0 ? "1" : "2";
            using var load = await client.PostAsync($"/models/grey/load?version={version}", null);
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
            var countBefore = answers.Count;
            // Let some requests run on each version before the next swap.
            while (answers.Count < countBefore + 5 && failures.IsEmpty)
            {
                await Task.Delay(5);
            }
        }

        stop.Cancel();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(answers.Count >= 100, $"only {answers.Count} requests ran");
        Assert.Contains(answers, a => a.Version == "1");
        Assert.Contains(answers, a => a.Version == "2");
        // The answer is the one of the version it names (the two versions have different weights) ...
        foreach (var a in answers)
        {
            _service.AssertGreyAnswer(a.Probabilities, a.Version, a.Swatch);
        }

        // ... and the stored prediction names the same version.
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, model_version FROM predictions WHERE model_name = 'grey'", connection);
        var stored = new Dictionary<long, string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored[reader.GetInt64(0)] = reader.GetString(1);
            }
        }

        Assert.Equal(answers.Count, stored.Count);
        Assert.All(answers, a => Assert.Equal(a.Version, stored[a.Id]));
    }
}
