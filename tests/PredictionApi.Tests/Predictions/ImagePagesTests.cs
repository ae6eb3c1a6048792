using System.Net;
using System.Text.Json;
using PredictionApi.Predictions;
using PredictionApi.Tests.Queries;

namespace PredictionApi.Tests.Predictions;

/// <summary>GET /predictions?fields=image: a page of images is bounded in bytes, and the cursor covers the rest.</summary>
public sealed class ImagePagesTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    /// <summary>from/to covering exactly the predictions between <paramref name="first"/> and <paramref name="last"/> (answers of POST /prediction).</summary>
    private static string Between(JsonElement first, JsonElement last) =>
        $"from={Seed.IsoPrecise(first.GetProperty("created_at").GetDateTime())}&to={Seed.IsoPrecise(last.GetProperty("created_at").GetDateTime().AddMilliseconds(1))}";

    [Fact]
    public async Task APageOfLargeImagesEndsNearItsBudgetAndNextCursorCoversTheRestExactlyOnce()
    {
        // 40 incompressible 500 x 500 PNGs of about 250 KB each: some 13 MB of data URLs, more than one page holds.
        var random = new Random(40);
        var posted = new Dictionary<long, byte[]>();
        var answers = new List<JsonElement>();
        for (var i = 0; i < 40; i++)
        {
            var noise = new byte[500 * 500];
            random.NextBytes(noise);
            var png = TestImages.PngGray8(500, 500, noise);
            answers.Add(await _client.PostPredictionAsync(png, $"noise-{i}.png"));
            posted.Add(answers[^1].GetProperty("prediction_id").GetInt64(), png);
        }

        var window = $"{Between(answers[0], answers[^1])}&limit=500";
        var seen = new Dictionary<long, string?>();
        var pages = 0;
        string? cursor = null;
        do
        {
            using var response = await _client.GetAsync($"/predictions?fields=filename,image&{window}" + (cursor is null ? "" : $"&cursor={cursor}"));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var bytes = await response.Content.ReadAsByteArrayAsync();
            var page = JsonSerializer.Deserialize<JsonElement>(bytes);
            var items = page.GetProperty("items").EnumerateArray().ToList();
            // JSON escapes '+' in base64, so the answer is a little larger than the data URLs themselves.
            Assert.True(bytes.Length <= PredictionQueriesApi.MaxImageCharsPerPage * 11 / 10 || items.Count == 1,
                $"a page of {items.Count} images is {bytes.Length} bytes");
            foreach (var item in items)
            {
                // Add throws on a prediction listed twice.
                seen.Add(item.GetProperty("prediction_id").GetInt64(), item.GetProperty("image").GetString());
            }

            cursor = page.GetProperty("next_cursor").GetString();
            pages++;
        }
        while (cursor is not null);

        Assert.InRange(pages, 2, 4);
        Assert.Equal(posted.Keys.Order(), seen.Keys.Order());
        Assert.All(posted, p => Assert.Equal("data:image/png;base64," + Convert.ToBase64String(p.Value), seen[p.Key]));

        // Without images the same listing is one page of all 40.
        var plain = await _client.WalkPredictionsAsync(Between(answers[0], answers[^1]), 500);
        Assert.Equal(40, Assert.Single(plain).Count);
    }

    [Fact]
    public async Task AnImageLargerThanTheBudgetStillGetsAPageOfItsOwn()
    {
        // A 3000 x 3000 noise PNG is about 9 MB, 12 MB as a data URL: more than a page's budget on its own.
        var noise = new byte[3000 * 3000];
        new Random(7).NextBytes(noise);
        var big = TestImages.PngGray8(3000, 3000, noise);
        Assert.True(InputImages.DataUrlLength("image/png", big.Length) > PredictionQueriesApi.MaxImageCharsPerPage);
        var small = await _client.PostPredictionAsync(Mnist.Png(0), "small.png");
        var large = await _client.PostPredictionAsync(big, "large.png");

        using var first = await _client.GetAsync($"/predictions?{Between(small, large)}&fields=image&limit=10");
        var page = JsonSerializer.Deserialize<JsonElement>(await first.Content.ReadAsStringAsync());

        // Newest first: the large image alone, though the limit allows more, and a cursor to the small one.
        var item = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal(large.GetProperty("prediction_id").GetInt64(), item.GetProperty("prediction_id").GetInt64());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(big), item.GetProperty("image").GetString());
        var cursor = page.GetProperty("next_cursor").GetString();
        using var second = await _client.GetAsync($"/predictions?{Between(small, large)}&fields=image&limit=10&cursor={cursor}");
        var rest = JsonSerializer.Deserialize<JsonElement>(await second.Content.ReadAsStringAsync());
        Assert.Equal([small.GetProperty("prediction_id").GetInt64()], rest.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("prediction_id").GetInt64()));
        Assert.Equal(JsonValueKind.Null, rest.GetProperty("next_cursor").ValueKind);
    }
}
