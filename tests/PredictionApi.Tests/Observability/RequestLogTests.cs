using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PredictionApi.Observability;

namespace PredictionApi.Tests.Observability;

/// <summary>The request log line names the model that answered, whichever way the request named it.</summary>
public sealed class RequestLogTests : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("requestlog");

    public async Task DisposeAsync() => await TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task AnOpenInferenceRequestIsLoggedWithTheModelInItsPath()
    {
        var logs = new LogCapture();
        await using var factory = new PredictionApiFactory(_database).WithWebHostBuilder(b => b.ConfigureLogging(l =>
        {
            l.AddProvider(logs);
            l.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));
        using var client = factory.CreateClient();
        // The shipped models: mnist is the default, so a line saying "mnist" for fashion's request would be wrong.
        var inputName = (await client.GetFromJsonAsync<V2Metadata>("/v2/models/fashion"))!.Inputs[0].Name;
        var body = new
        {
            inputs = new[] { new { name = inputName, shape = new[] { 1 }, datatype = "BYTES", data = new[] { Convert.ToBase64String(Mnist.Png(3)) } } },
        };
        using (var answer = await client.PostAsJsonAsync("/v2/models/fashion/infer", body))
        {
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        using (await client.PostAsJsonAsync("/v2/models/fashion/versions/1.0.0/infer", body))
        {
        }

        var lines = logs.Entries.Where(e => e.Category == typeof(RequestLog).FullName && e["Route"] is string route && route.StartsWith("/v2/models/", StringComparison.Ordinal)).ToList();
        Assert.Equal(["GET /v2/models/{model} fashion", "POST /v2/models/{model}/infer fashion", "POST /v2/models/{model}/versions/{version}/infer fashion"],
            lines.Select(l => $"{l["Method"]} {l["Route"]} {l["Model"]}"));
    }

    private sealed record V2Metadata(IReadOnlyList<V2Tensor> Inputs);

    private sealed record V2Tensor(string Name);
}
