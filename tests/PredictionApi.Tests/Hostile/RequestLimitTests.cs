using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// A request target or headers too large for the service, on real Kestrel: a 414 or 431 in problem details with the
/// security headers (Kestrel's own answer was an empty body without them), nothing stored, and the service serving on.
/// Just under the limits is answered as usual.
/// </summary>
public sealed class RequestLimitTests(HostileService service) : IClassFixture<HostileService>
{
    [Fact]
    public async Task ATargetOver8KiBIs414ProblemDetails()
    {
        using var response = await service.Client.GetAsync("/predictions?model=" + new string('m', 10_000));
        var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestUriTooLong, "at most 8192");
        Assert.StartsWith("00-", problem.GetProperty("trace_id").GetString());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        await service.AssertStillServingAsync("a 10 kB request target");
    }

    [Fact]
    public async Task ATargetJustUnderTheLimitIsAnsweredAsUsual()
    {
        using var response = await service.Client.GetAsync("/health/live?pad=" + new string('p', 8_000));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task AnUploadWithHeadersOver32KiBIs431AndStoresNothing()
    {
        var before = await service.CountRowsAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form(Mnist.Png(0)) };
        request.Headers.Add("X-Padding", new string('h', 40_000));
        using var response = await service.Client.SendAsync(request);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge, "at most 32768");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal(before, await service.CountRowsAsync());
        await service.AssertStillServingAsync("40 kB of headers");
    }

    [Fact]
    public async Task MoreThan100HeaderFieldsIs431()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/predictions");
        for (var i = 0; i < 150; i++)
        {
            request.Headers.Add($"X-Field-{i}", "v");
        }

        using var response = await service.Client.SendAsync(request);
        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestHeaderFieldsTooLarge, "at most 100");
    }

    [Fact]
    public async Task KestrelLimitsAnOperatorSetsAreTheServicesLimits()
    {
        var database = await TestPostgres.CreateDatabaseAsync("limits");
        try
        {
            await using var factory = new PredictionApiFactory(database, new Dictionary<string, string?> { ["Kestrel:Limits:MaxRequestHeadersTotalSize"] = "65536" });
            using var client = new HttpClient { BaseAddress = factory.StartKestrel() };
            using (var accepted = new HttpRequestMessage(HttpMethod.Get, "/health/live"))
            {
                accepted.Headers.Add("X-Padding", new string('h', 40_000));
                using var response = await client.SendAsync(accepted);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            using var refused = new HttpRequestMessage(HttpMethod.Get, "/health/live");
            refused.Headers.Add("X-Padding", new string('h', 70_000));
            using var refusal = await client.SendAsync(refused);
            await ProblemAssert.AssertProblemAsync(refusal, HttpStatusCode.RequestHeaderFieldsTooLarge, "at most 65536");
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task UnderV2TheRefusalIsInTheProtocolsShape()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v2/health/live");
        request.Headers.Add("X-Padding", new string('h', 40_000));
        using var response = await service.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        var body = JsonSerializer.Deserialize<JsonElement>(await response.Content.ReadAsStringAsync());
        Assert.Contains("at most 32768", body.GetProperty("error").GetString());
    }
}
