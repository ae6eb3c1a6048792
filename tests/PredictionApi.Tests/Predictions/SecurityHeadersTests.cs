namespace PredictionApi.Tests.Predictions;

/// <summary>
/// Every answer forbids content sniffing, framing and referrers; the web page allows only its own scripts and styles;
/// no stored data is left in a shared cache.
/// </summary>
public sealed class SecurityHeadersTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Theory]
    [InlineData("/")]
    [InlineData("/app.js")]
    [InlineData("/predictions")]
    [InlineData("/prediction/999999999")]
    [InlineData("/no/such/path")]
    [InlineData("/health/live")]
    public async Task EveryAnswerCarriesNosniffAndRefusesFraming(string path)
    {
        using var response = await _client.GetAsync(path);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        var policy = response.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.Contains("script-src 'self'", policy);
        Assert.DoesNotContain("unsafe-inline", policy);
    }

    [Fact]
    public async Task AStoredImageIsServedWithNosniff()
    {
        var stored = await _client.PostPredictionAsync(Mnist.Png(4));
        using var image = await _client.GetAsync($"/prediction/{stored.GetProperty("prediction_id").GetInt64()}/image");

        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal("nosniff", image.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task AnswersHoldingStoredDataAndErrorsAreNotStoredByCaches()
    {
        var stored = await _client.PostPredictionAsync(Mnist.Png(5));
        var id = stored.GetProperty("prediction_id").GetInt64();

        // No Cache-Control at all let a proxy or CDN keep them heuristically; X-API-Key does not stop a shared cache as Authorization does.
        foreach (var path in new[]
                 {
                     "/predictions", $"/prediction/{id}", "/predictions/stats", "/predictions/stats/series", "/models", "/models/mnist",
                     "/v2/models/mnist", "/prediction/999999999", "/predictions?limit=0", "/no/such/path",
                 })
        {
            using var response = await _client.GetAsync(path);
            Assert.True(response.Headers.CacheControl?.NoStore == true, $"GET {path} ({(int)response.StatusCode}): Cache-Control '{response.Headers.CacheControl}'");
        }

        using var put = await _client.PutAsync("/predictions", null);
        Assert.Equal(System.Net.HttpStatusCode.MethodNotAllowed, put.StatusCode);
        Assert.True(put.Headers.CacheControl?.NoStore == true);
    }

    [Fact]
    public async Task AStoredImageIsCachedOnlyPrivatelyAndPerKey()
    {
        var stored = await _client.PostPredictionAsync(Mnist.Png(6));
        using var image = await _client.GetAsync($"/prediction/{stored.GetProperty("prediction_id").GetInt64()}/image");

        Assert.True(image.Headers.CacheControl is { Private: true, NoStore: false }, image.Headers.CacheControl?.ToString());
        Assert.Contains("Authorization", image.Headers.Vary);
        Assert.Contains("X-API-Key", image.Headers.Vary);
    }

    [Fact]
    public async Task ThePageStaysCacheableAndItsNotModifiedAnswersCarryTheHeaders()
    {
        using var page = await _client.GetAsync("/app.js");
        Assert.False(page.Headers.CacheControl?.NoStore ?? false);
        Assert.NotNull(page.Headers.ETag);

        using var again = new HttpRequestMessage(HttpMethod.Get, "/app.js") { Headers = { IfNoneMatch = { page.Headers.ETag } } };
        using var notModified = await _client.SendAsync(again);

        Assert.Equal(System.Net.HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal("nosniff", notModified.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", notModified.Headers.GetValues("Referrer-Policy").Single());
    }
}
