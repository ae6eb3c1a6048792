using System.Net;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// Four dozen images sent at once to a service process of its own, decoded on threads of their own that take turns, one
/// per core: GIFs with a 16-megapixel white frame under a logical screen declared as 1x1 (the header check sees the frame,
/// as the decoder does), and 790x790 PNGs of noise, small for the decoding budget but a decode of tens of milliseconds.
/// Taken at the screen's word, the GIFs were decoded on the pool's threads, as the PNGs were; with a thread for each at
/// once, they split the two cores four dozen ways; either way /health/live took from one to over three seconds.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class LargeDecodeTurnTests
{
    private const int Uploads = 48;

    [Theory]
    [InlineData("gif")]
    [InlineData("png")]
    public async Task ManyLargeImagesAtOnceTakeTurnsAndLivenessStaysPrompt(string kind)
    {
        var database = await TestPostgres.CreateDatabaseAsync("turns");
        try
        {
            var url = $"http://127.0.0.1:{TestPostgres.FreePort()}";
            await using var service = ServiceProcess.Start($"--ConnectionStrings:Predictions={database}", "--urls", url);
            var address = new Uri(url);
            await service.WaitForReadyAsync(address);
            using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(120) };
            var image = kind == "gif"
                ? HostileImages.GifWhiteFrame(1, 1, 4000, 4000)
                : TestImages.PngGray8(790, 790, Enumerable.Range(0, 790 * 790).Select(i => (byte)(i * 2654435761u >> 24)).ToArray());
            foreach (var warm in new[] { Mnist.Png(0), image })
            {
                using var response = await client.PostAsync("/prediction", TestImages.Form(warm, $"warm.{kind}", $"image/{kind}"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var threadsBefore = service.Threads;
            var uploads = Enumerable.Range(0, Uploads).Select(i => client.PostAsync("/prediction", TestImages.Form(image, $"large-{i}.{kind}", $"image/{kind}"))).ToArray();
            var all = Task.WhenAll(uploads);
            var ordinary = Task.Run(async () =>
            {
                await Task.Delay(300);
                return await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
            });
            var mostThreads = 0;
            var slowestProbe = await Liveness.SlowestWhileAsync(client, all, () => mostThreads = Math.Max(mostThreads, service.Threads));

            foreach (var response in await all)
            {
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                response.Dispose();
            }

            using var single = await ordinary;
            Assert.Equal(HttpStatusCode.OK, single.StatusCode);
            Assert.True(slowestProbe < TimeSpan.FromMilliseconds(500), $"/health/live took {slowestProbe.TotalMilliseconds:0} ms during the uploads");
            // A turn per core, and the pool's few: not a thread per upload.
            Assert.True(mostThreads - threadsBefore < 16, $"the process went from {threadsBefore} to {mostThreads} threads during the uploads");
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }
}
