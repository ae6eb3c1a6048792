namespace PredictionApi.Tests.Predictions;

/// <summary>Every answer forbids content sniffing and framing; the web page allows only its own scripts and styles.</summary>
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
}
