using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Npgsql;

namespace PredictionApi.Tests.Models;

/// <summary>
/// Every kind of model change an operator makes, one after another, while clients upload without pause: a version
/// loaded beside the serving one, a new version written and swapped in, the serving version unloaded, a switch back
/// to an older version, the whole model unloaded and loaded again, with the poller looking at the folder meanwhile.
/// Each upload must be answered and stored by the version that really ran it, or refused with a problem, never a 500
/// and never left hanging.
/// </summary>
public sealed class VersionChurnTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1, 2);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private sealed record Answer(long PredictionId, string Version, int Swatch, float[] Probabilities);

    [Theory]
    [InlineData(null)]
    [InlineData("1")]
    public async Task UploadsDuringLoadsUnloadsAndSwitchesAreStoredUnderTheVersionThatRanThemOrRefusedWithAProblem(string? pin)
    {
        // The poller races the operator's loads and unloads; it must neither undo an unload nor swap in a version nobody asked for.
        var settings = new Dictionary<string, string?> { ["Model:PollSeconds"] = "1" };
        if (pin is not null)
        {
            settings["Model:Versions:grey"] = pin;
        }

        await _service.StartAsync("churn", settings);
        var baseAddress = _service.Factory.StartKestrel();
        // A request that takes this long has hung: every swap lets requests in flight finish within milliseconds.
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(10) };
        var answers = new ConcurrentBag<Answer>();
        var refusals = new ConcurrentBag<int>();
        var failures = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();

        async Task Upload(int worker)
        {
            for (var n = worker; !stop.IsCancellationRequested; n += 4)
            {
                // No version (the serving one), or each version by name; every fifth request a batch of two.
                var version = (n / 4 % 4) switch { 0 => null, var v => v.ToString() };
                var batch = n % 5 == 0;
                var path = (batch ? "/predictions/batch?model=grey" : "/prediction?model=grey") + (version is null ? "" : $"&version={version}");
                var form = batch
                    ? TestImages.Form(("digit.png", ModelFolder.Swatch(n)), ("second.png", ModelFolder.Swatch(n + 1000)))
                    : TestImages.Form(ModelFolder.Swatch(n));

                HttpResponseMessage response;
                try
                {
                    response = await client.PostAsync(path, form);
                }
                catch (TaskCanceledException)
                {
                    failures.Add($"{path}: no answer within 10 s");
                    continue;
                }

                using (response)
                {
                    var text = await response.Content.ReadAsStringAsync();
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        var status = (int)response.StatusCode;
                        if (status is not (>= 400 and < 500 or 503) || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                        {
                            failures.Add($"{path}: {status} {response.Content.Headers.ContentType} {text}");
                        }

                        refusals.Add(status);
                        continue;
                    }

                    var body = JsonDocument.Parse(text).RootElement;
                    var items = batch ? body.EnumerateArray().ToArray() : [body];
                    for (var i = 0; i < items.Length; i++)
                    {
                        var answered = items[i].GetProperty("model").GetProperty("version").GetString()!;
                        if (version is not null && answered != version)
                        {
                            failures.Add($"{path}: asked for version {version}, answered by {answered}");
                        }

                        answers.Add(new Answer(items[i].GetProperty("prediction_id").GetInt64(), answered, n + i * 1000,
                            items[i].GetProperty("prediction").EnumerateArray().Select(p => p.GetSingle()).ToArray()));
                    }
                }
            }
        }

        async Task Change(string pathAndQuery, Action? before = null)
        {
            before?.Invoke();
            using var response = await client.PostAsync(pathAndQuery, null);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{pathAndQuery}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            // Some uploads (or refusals) on every state before the next change.
            var seen = answers.Count + refusals.Count;
            var until = DateTime.UtcNow.AddSeconds(2);
            while (answers.Count + refusals.Count < seen + 20 && DateTime.UtcNow < until)
            {
                await Task.Delay(5);
            }
        }

        // The model listing reads the same state the changes write: it must answer throughout.
        async Task Describe()
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var path in new[] { "/models", "/models/grey" })
                {
                    using var response = await client.GetAsync(path);
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        failures.Add($"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
            }
        }

        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(() => Upload(w))).Append(Task.Run(Describe)).ToArray();
        await Change("/models/grey/load?version=1&serve=false");
        await Change("/models/grey/load?version=3", () => _service.WriteGrey("3", seed: 3));
        await Change("/models/grey/unload?version=3");
        await Change("/models/grey/load?version=2");
        await Change("/models/grey/unload");
        await Change("/models/grey/load");
        await Change("/models/grey/load?version=1");
        stop.Cancel();
        await Task.WhenAll(workers);

        Assert.Empty(failures);
        Assert.True(answers.Count >= 50, $"only {answers.Count} uploads were answered");
        Assert.Contains(503, refusals);
        foreach (var version in new[] { "1", "2", "3" })
        {
            Assert.Contains(answers, a => a.Version == version);
        }

        // The answer is what the version it names gives for that image (the versions' weights differ) ...
        foreach (var a in answers)
        {
            _service.AssertGreyAnswer(a.Probabilities, a.Version, a.Swatch);
        }

        // ... and so is the stored row: same version, same probabilities, and no row for a refused upload.
        await using var connection = new NpgsqlConnection(_service.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT id, model_name, model_version, probabilities::text FROM predictions", connection);
        var stored = new Dictionary<long, (string Name, string Version, float[] Probabilities)>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored[reader.GetInt64(0)] = (reader.GetString(1), reader.GetString(2), JsonSerializer.Deserialize<float[]>(reader.GetString(3))!);
            }
        }

        Assert.Equal(answers.Count, stored.Count);
        foreach (var a in answers)
        {
            var row = stored[a.PredictionId];
            Assert.Equal(("grey", a.Version), (row.Name, row.Version));
            _service.AssertGreyAnswer(row.Probabilities, a.Version, a.Swatch);
        }
    }
}
