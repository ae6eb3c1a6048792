using System.Net;

namespace PredictionApi.Tests.Models;

/// <summary>
/// A retry with an Idempotency-Key after the version that answered has gone: the answer is stored, so the retry gets it
/// back whatever is loaded now. A client whose reply was lost (the 503 "Outcome unknown" tells it to retry with the same
/// key) must not be told the model is unavailable and so be led to send the files again under a new key.
/// </summary>
public sealed class ReplayAfterUnloadTests : IAsyncLifetime
{
    private readonly ModelsService _service = ModelsService.WithGreyVersions(1, 2);

    public async Task InitializeAsync()
    {
        await _service.StartAsync("replayunload");
    }

    public async Task DisposeAsync() => await _service.DisposeAsync();

    private static HttpRequestMessage Request(string pathAndQuery, string key) =>
        ApiClient.UploadRequest(pathAndQuery, TestImages.Form(ModelFolder.Swatch(3)), key);

    [Theory]
    [InlineData("/prediction?model=grey&version=1", "/models/grey/unload?version=1", "/models/grey/load?version=1&serve=false")]
    [InlineData("/prediction?model=grey", "/models/grey/unload", "/models/grey/load")]
    [InlineData("/predictions/batch?model=grey&version=1", "/models/grey/unload?version=1", "/models/grey/load?version=1&serve=false")]
    [InlineData("/predictions/batch?model=grey", "/models/grey/unload", "/models/grey/load")]
    public async Task ARetryAfterTheAnsweringVersionWasUnloadedReplaysTheStoredAnswer(string upload, string unload, string reload)
    {
        using var client = _service.Factory.CreateClient();
        using (var load = await client.PostAsync("/models/grey/load?version=1&serve=false", null))
        {
            Assert.Equal(HttpStatusCode.OK, load.StatusCode);
        }

        var key = Guid.NewGuid().ToString();
        using var first = await client.SendAsync(Request(upload, key));
        var firstText = await first.Content.ReadAsStringAsync();
        Assert.True(first.StatusCode == HttpStatusCode.OK, firstText);
        using (var gone = await client.PostAsync(unload, null))
        {
            Assert.Equal(HttpStatusCode.OK, gone.StatusCode);
        }

        try
        {
            using var retry = await client.SendAsync(Request(upload, key));
            var retryText = await retry.Content.ReadAsStringAsync();
            Assert.True(retry.StatusCode == HttpStatusCode.OK, $"{(int)retry.StatusCode} {retryText}");
            Assert.Equal("true", Assert.Single(retry.Headers.GetValues("Idempotent-Replayed")));
            Assert.Equal(firstText, retryText);

            // The same key with other files is still refused, even with nothing to run them.
            using var other = ApiClient.UploadRequest(upload, TestImages.Form(ModelFolder.Swatch(4)), key);
            await ProblemAssert.AssertProblemAsync(await client.SendAsync(other), HttpStatusCode.UnprocessableEntity);

            // A new key still needs the model: nothing stored can answer it.
            using var fresh = await client.SendAsync(Request(upload, Guid.NewGuid().ToString()));
            Assert.True(fresh.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.ServiceUnavailable, $"{(int)fresh.StatusCode}");
        }
        finally
        {
            // The next case starts with version 1 loaded and a version serving.
            using var back = await client.PostAsync(reload, null);
        }
    }
}
