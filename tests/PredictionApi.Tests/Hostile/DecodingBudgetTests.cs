using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PredictionApi.Imaging;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// A batch of decompression bombs, each within the pixel cap, against a service configured with the old
/// 40-megapixel cap: the decoded pixels in memory stay within Imaging:MaxDecodingPixels, so the process
/// grows by a couple of bitmaps, not by one per thread; liveness answers promptly throughout and an
/// ordinary upload sent meanwhile is classified. Before the budget such a batch of 64 peaked at 6 GB.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class DecodingBudgetTests : IAsyncLifetime
{
    // 6324 x 6324 = 39,992,976 pixels: just under a 40-megapixel cap.
    private const int Side = 6324;
    private const int Bombs = 16;
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _database = await TestPostgres.CreateDatabaseAsync("budget");
        _factory = new PredictionApiFactory(_database, new Dictionary<string, string?> { ["Imaging:MaxPixels"] = "40000000" });
        _client = new HttpClient { BaseAddress = _factory.StartKestrel(), Timeout = TimeSpan.FromSeconds(300) };
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    [Fact]
    public async Task ABatchOfBombsStaysWithinTheDecodingBudgetAndLivenessStaysPrompt()
    {
        var bomb = HostileImages.PngZeros(Side, Side);
        using (var warm = await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0))))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var baseline = ResidentBytes();
        var peak = baseline;
        var slowestProbe = TimeSpan.Zero;
        var form = new MultipartFormDataContent();
        for (var i = 0; i < Bombs; i++)
        {
            var file = new ByteArrayContent(bomb);
            file.Headers.ContentType = new("image/png");
            form.Add(file, "file", $"bomb-{i}.png");
        }

        var batch = _client.PostAsync("/predictions/batch", form);
        var ordinary = Task.Run(async () =>
        {
            await Task.Delay(500);
            return await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
        });
        while (!batch.IsCompleted)
        {
            var watch = Stopwatch.StartNew();
            using (var live = await _client.GetAsync("/health/live"))
            {
                Assert.Equal(HttpStatusCode.OK, live.StatusCode);
            }

            slowestProbe = TimeSpan.FromTicks(Math.Max(slowestProbe.Ticks, watch.Elapsed.Ticks));
            peak = Math.Max(peak, ResidentBytes());
            await Task.Delay(20);
        }

        using var response = await batch;
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        Assert.All(JsonSerializer.Deserialize<JsonElement>(text).EnumerateArray(), item => Assert.True(item.TryGetProperty("prediction_id", out _), item.ToString()));
        using var single = await ordinary;
        Assert.Equal(HttpStatusCode.OK, single.StatusCode);

        var budget = _factory.Services.GetRequiredService<ImagePreprocessor>().Budget;
        Assert.InRange(budget.Peak, 1, budget.Capacity);
        // One 40-megapixel bitmap is 160 MB; the batch used to hold one per busy thread.
        var grown = (peak - baseline) >> 20;
        Assert.True(grown < 400, $"the process grew by {grown} MB during the batch");
        Assert.True(slowestProbe < TimeSpan.FromMilliseconds(500), $"/health/live took {slowestProbe.TotalMilliseconds:0} ms during the batch");
    }

    private static long ResidentBytes()
    {
        // VmRSS counts the decoders' native buffers, which the managed heap statistics do not.
        var line = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
    }
}
