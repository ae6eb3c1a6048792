using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// A batch of decompression bombs, each within the pixel cap, sent to a service process of its own that is
/// configured with the old 40-megapixel cap: the decoded pixels in memory stay within
/// Imaging:MaxDecodingPixels, so the process grows by a bitmap or two, not by one per thread; liveness
/// answers promptly throughout and an ordinary upload sent meanwhile is classified. Before the budget
/// such a batch of 64 peaked at 6 GB.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class DecodingBudgetTests
{
    // 6324 x 6324 = 39,992,976 pixels: just under a 40-megapixel cap.
    private const int Side = 6324;
    private const int Bombs = 16;

    [Fact]
    public async Task ABatchOfBombsStaysWithinTheDecodingBudgetAndLivenessStaysPrompt()
    {
        var database = await TestPostgres.CreateDatabaseAsync("budget");
        try
        {
            // A process of its own, so its resident memory is the service's alone.
            var url = $"http://127.0.0.1:{TestPostgres.FreePort()}";
            await using var service = ServiceProcess.Start($"--ConnectionStrings:Predictions={database}", "--urls", url, "--Imaging:MaxPixels=40000000");
            var address = new Uri(url);
            await service.WaitForReadyAsync(address);
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
            using (var warm = await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0))))
            {
                Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
            }

            var baseline = service.ResidentBytes.Now;
            var bomb = HostileImages.PngZeros(Side, Side);
            var form = new MultipartFormDataContent();
            for (var i = 0; i < Bombs; i++)
            {
                var file = new ByteArrayContent(bomb);
                file.Headers.ContentType = new("image/png");
                form.Add(file, "file", $"bomb-{i}.png");
            }

            var batch = client.PostAsync("/predictions/batch", form);
            var ordinary = Task.Run(async () =>
            {
                await Task.Delay(500);
                return await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
            });
            var slowestProbe = await Liveness.SlowestWhileAsync(client, batch);

            using var response = await batch;
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
            Assert.All(JsonSerializer.Deserialize<JsonElement>(text).EnumerateArray(), item => Assert.True(item.TryGetProperty("prediction_id", out _), item.ToString()));
            using var single = await ordinary;
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);

            // One 40-megapixel bitmap is 160 MB; the batch used to hold one per busy thread.
            var grown = (service.ResidentBytes.Peak - baseline) >> 20;
            Assert.True(grown < 400, $"the process grew by {grown} MB during the batch");
            Assert.True(slowestProbe < TimeSpan.FromMilliseconds(500), $"/health/live took {slowestProbe.TotalMilliseconds:0} ms during the batch");
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }
}
