using System.Net;

namespace PredictionApi.Tests.CrossOrigin;

/// <summary>
/// CORS: pages of the origins in Cors:AllowedOrigins may call the API with a key in a header; their preflights are
/// answered without a key, and their refusals carry the headers a page needs to read them. Other origins get no CORS
/// headers, and a service without the setting sends none at all.
/// </summary>
public sealed class CrossOriginTests : IAsyncLifetime
{
    private const string Allowed = "https://labels.example";
    private ConfiguredService _service = null!;

    public async Task InitializeAsync()
    {
        _service = await ConfiguredService.CreateAsync("cors", new Dictionary<string, string?>
        {
            ["Cors:AllowedOrigins:0"] = Allowed,
            ["Auth:Required"] = "true",
        });
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    [Fact]
    public async Task AnAllowedOriginsPreflightIsAnsweredWithoutAKeyAndItsRefusalsAreReadable()
    {
        using var client = _service.Factory.CreateClient();

        using var preflight = await client.SendAsync(Preflight(Allowed, "POST", "authorization, idempotency-key"));
        Assert.Equal(HttpStatusCode.NoContent, preflight.StatusCode);
        Assert.Equal(Allowed, Single(preflight, "Access-Control-Allow-Origin"));
        Assert.Contains("authorization", Single(preflight, "Access-Control-Allow-Headers"), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("POST", Single(preflight, "Access-Control-Allow-Methods"));

        // The real request, still without a key: a 401 the page can read, WWW-Authenticate included.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/predictions") { Headers = { { "Origin", Allowed } } };
        using var refused = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(Allowed, Single(refused, "Access-Control-Allow-Origin"));
        Assert.Contains("WWW-Authenticate", Single(refused, "Access-Control-Expose-Headers"));
    }

    [Fact]
    public async Task AnotherOriginGetsNoCorsHeaders()
    {
        using var client = _service.Factory.CreateClient();
        using var preflight = await client.SendAsync(Preflight("https://elsewhere.example", "POST", "authorization"));
        Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task WithoutTheSettingNoCorsHeadersAreSent()
    {
        var database = await TestPostgres.CreateDatabaseAsync("nocors");
        try
        {
            await using var factory = new PredictionApiFactory(database);
            using var client = factory.CreateClient();
            using var preflight = await client.SendAsync(Preflight(Allowed, "POST", "authorization"));
            Assert.NotEqual(HttpStatusCode.NoContent, preflight.StatusCode);
            Assert.False(preflight.Headers.Contains("Access-Control-Allow-Origin"));
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private static HttpRequestMessage Preflight(string origin, string method, string headers) =>
        new(HttpMethod.Options, "/prediction")
        {
            Headers = { { "Origin", origin }, { "Access-Control-Request-Method", method }, { "Access-Control-Request-Headers", headers } },
        };

    private static string Single(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) ? string.Join(", ", values) : "";
}
