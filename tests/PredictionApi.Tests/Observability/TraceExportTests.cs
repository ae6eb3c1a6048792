using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;

namespace PredictionApi.Tests.Observability;

/// <summary>
/// Traces as an operator turns them on, with OTEL_EXPORTER_OTLP_ENDPOINT: the service, a process of its own, exports
/// over OTLP/HTTP to a receiver, which reads the spans from their protobuf. An upload's stages (reading the body,
/// decoding, preprocessing, inference, storing, and Npgsql's commands) are spans of its request's trace, which
/// continues the caller's traceparent; a problem's trace_id names its request's span.
/// </summary>
public sealed class TraceExportTests(ITestOutputHelper output) : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("traces");

    public Task DisposeAsync() => TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task AnUploadsStagesAreSpansOfItsRequestAndAProblemsTraceIdIsItsRequestsSpan()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var service = new Uri($"http://127.0.0.1:{TestPostgres.FreePort()}");
        await using var process = ServiceProcess.Start(
            new Dictionary<string, string>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Address.ToString().TrimEnd('/'),
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                // Exported a tenth of a second after they end, not the default 5 s.
                ["OTEL_BSP_SCHEDULE_DELAY"] = "100",
            },
            $"--ConnectionStrings:Predictions={_database}", "--urls", service.ToString());
        await process.WaitForReadyAsync(service);
        using var client = new HttpClient { BaseAddress = service };

        var traceId = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var callerSpan = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        using var upload = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form(Mnist.Png(3), "three.png") };
        upload.Headers.Add("traceparent", $"00-{traceId}-{callerSpan}-01");
        using (var stored = await client.SendAsync(upload))
        {
            Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        }

        // A multipart body without a boundary: refused from inside the upload endpoint.
        using var refused = await client.PostAsync("/prediction", new StringContent("--x--", Encoding.UTF8, "multipart/form-data"));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var problemTrace = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("trace_id").GetString()!.Split('-');

        var deadline = DateTime.UtcNow.AddSeconds(20);
        IReadOnlyList<OtlpSpan> spans = [];
        string[] stages = ["read-upload", "decode", "preprocess", "infer", "store"];
        while (DateTime.UtcNow < deadline)
        {
            spans = receiver.Spans;
            if (stages.All(name => spans.Any(s => s.TraceId == traceId && s.Name == name)) && spans.Any(s => s.SpanId == problemTrace[2]))
            {
                break;
            }

            await Task.Delay(100);
        }

        foreach (var span in spans.Where(s => s.TraceId == traceId || s.TraceId == problemTrace[1]))
        {
            output.WriteLine($"{span.SpanId} <- {span.ParentSpanId}: {span.Name}");
        }

        var trace = spans.Where(s => s.TraceId == traceId).ToList();
        var request = Assert.Single(trace, s => s.ParentSpanId == callerSpan);
        // Named by method and route template, as ASP.NET Core names it (the route is "/prediction/", a group's "/").
        Assert.Equal("POST /prediction/", request.Name);
        foreach (var stage in stages)
        {
            var span = Assert.Single(trace, s => s.Name == stage);
            Assert.True(DescendsFrom(span, request, trace), $"{stage} is not under the request's span");
        }

        // Npgsql's commands are spans of the store.
        var store = trace.Single(s => s.Name == "store");
        Assert.Contains(trace, s => s.ParentSpanId == store.SpanId);
        // The problem's trace_id is "00-trace-span-flags": its request's span, named by its route although it failed.
        Assert.Contains(spans, s => s.TraceId == problemTrace[1] && s.SpanId == problemTrace[2] && s.Name == "POST /prediction/");
    }

    private static bool DescendsFrom(OtlpSpan span, OtlpSpan ancestor, List<OtlpSpan> trace)
    {
        for (var parent = span.ParentSpanId; parent != ""; parent = trace.FirstOrDefault(s => s.SpanId == parent)?.ParentSpanId ?? "")
        {
            if (parent == ancestor.SpanId)
            {
                return true;
            }
        }

        return false;
    }
}
