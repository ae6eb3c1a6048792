using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace PredictionApi.Tests.Observability;

/// <summary>GET /metrics in Prometheus's format: request durations, the service's own stages and counts, bounded labels.</summary>
public sealed class MetricsTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    [Fact]
    public async Task MetricsCountStoredPredictionsAndRefusalsAndTimeEachStageWithoutIdsOrFileNames()
    {
        await _client.PostPredictionAsync(Mnist.Png(7), "a-unique-file-name-41.png");
        using (var refused = await _client.PostAsync("/prediction", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        }

        // A multipart body without a boundary: a 400 from inside the upload endpoint, written by the exception handler.
        using (var malformed = await _client.PostAsync("/prediction", new StringContent("--x--", Encoding.UTF8, "multipart/form-data")))
        {
            Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        }

        using var response = await _client.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("http_server_request_duration_seconds_bucket", text);
        Assert.Matches("""predictionapi_predictions_stored_total\{[^}]*model="mnist"[^}]*\} [1-9]""", text);
        Assert.Contains("predictionapi_preprocess_duration_seconds_bucket", text);
        Assert.Contains("predictionapi_inference_duration_seconds_bucket", text);
        Assert.Contains("predictionapi_database_write_duration_seconds_bucket", text);
        Assert.Contains("predictionapi_group_size", text);
        Assert.Matches("""predictionapi_refusals_total\{[^}]*status="415"[^}]*\} [1-9]""", text);
        // A failed request keeps its route (the exception handler that wrote its problem had cleared it).
        Assert.Matches("""http_server_request_duration_seconds_count\{(?=[^}]*http_route="/prediction/")(?=[^}]*http_response_status_code="400")[^}]*\} [1-9]""", text);
        Assert.Matches("""predictionapi_model_info\{[^}]*sha256="[0-9a-f]{64}"[^}]*\} 1""", text);
        Assert.DoesNotContain("a-unique-file-name-41", text);
        // Traces and metrics name the service (not the SDK's "unknown_service:dotnet").
        Assert.Matches("""target_info\{[^}]*service_name="predictionapi"[^}]*\} 1""", text);
        // The pool is labelled by its name (that no connection string shows is checked in a process of its own,
        // PrometheusScrapeTests: here the tests' own pools share the process's meters).
        Assert.Matches("""db_client_connection_[a-z_]*\{[^}]*pool_name="predictions"[^}]*\}""", text);
    }

    [Theory]
    [InlineData("POST")]
    [InlineData("DELETE")]
    [InlineData("PUT")]
    [InlineData("OPTIONS")]
    public async Task MetricsAnswerOnlyGetAndOtherMethodsAre405(string method)
    {
        using var response = await _client.SendAsync(new HttpRequestMessage(new HttpMethod(method), "/metrics"));

        await ProblemAssert.AssertProblemAsync(response, System.Net.HttpStatusCode.MethodNotAllowed, "not allowed");
        // No scrape here: the exporter caches a scrape for 300 ms, which the other test in this class would then read.
        Assert.Contains("GET", response.Content.Headers.Allow);
    }
}
