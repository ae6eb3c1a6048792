using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Infrastructure;

/// <summary>The calls many tests make: store an image, send an upload with an Idempotency-Key, and read a whole listing page by page.</summary>
public static class ApiClient
{
    /// <summary>A POST of <paramref name="form"/>, with an Idempotency-Key when <paramref name="key"/> is given.</summary>
    public static HttpRequestMessage UploadRequest(string pathAndQuery, HttpContent form, string? key = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, pathAndQuery) { Content = form };
        if (key is not null)
        {
            request.Headers.Add("Idempotency-Key", key);
        }

        return request;
    }

    /// <summary>POSTs <paramref name="image"/> to /prediction, asserts 200 and returns the answer.</summary>
    public static async Task<JsonElement> PostPredictionAsync(this HttpClient client, byte[] image, string fileName = "digit.png", string query = "")
    {
        using var response = await client.PostAsync("/prediction" + query, TestImages.Form(image, fileName));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"POST /prediction{query} answered {(int)response.StatusCode}: {text}");
        return JsonSerializer.Deserialize<JsonElement>(text);
    }

    /// <summary>
    /// Every page of GET /predictions?<paramref name="query"/> with page size <paramref name="limit"/>,
    /// following next_cursor; asserts that each page answers 200, holds at most the page size, and that
    /// only a full page has a next cursor.
    /// </summary>
    public static async Task<List<List<JsonElement>>> WalkPredictionsAsync(this HttpClient client, string query, int limit)
    {
        var pages = new List<List<JsonElement>>();
        string? cursor = null;
        do
        {
            using var response = await client.GetAsync($"/predictions?{query}&limit={limit}" + (cursor is null ? "" : $"&cursor={cursor}"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, text);
            var page = JsonSerializer.Deserialize<JsonElement>(text);
            var items = page.GetProperty("items").EnumerateArray().ToList();
            Assert.True(items.Count <= limit);
            pages.Add(items);
            cursor = page.GetProperty("next_cursor").GetString();
            Assert.True(cursor is null || items.Count == limit, "only a full page has a next cursor");
        }
        while (cursor is not null);

        return pages;
    }
}
