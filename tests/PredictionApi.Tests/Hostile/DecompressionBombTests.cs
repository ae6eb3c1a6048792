using System.Net;
using System.Text.Json;

namespace PredictionApi.Tests.Hostile;

/// <summary>Runs alone, after the parallel tests, so the process's managed memory can be measured.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AloneCollection
{
    public const string Name = "Alone";
}

/// <summary>
/// Decompression bombs: PNGs of a few dozen kilobytes that declare a canvas right at the 16-megapixel
/// cap. They are within the rules, so they are answered (one pixel over the cap is refused from the
/// header); what they must not do is cost the service its memory. Before the working planes were
/// reduced and large buffers kept out of the shared pool, each such upload left about 500 MB behind.
/// </summary>
[Collection(AloneCollection.Name)]
public sealed class DecompressionBombTests(HostileService service) : IClassFixture<HostileService>
{
    // 4000 x 4000 = 16,000,000 pixels: exactly the default cap; 4001 x 4001 is just over.
    private const int Side = 4000;

    [Fact]
    public async Task APngOfZerosAtTheCapIsAnsweredAsBlankAndOnePixelMoreIsRefused()
    {
        var bomb = HostileImages.PngZeros(Side, Side);
        Assert.True(bomb.Length < 64 * 1024, $"the bomb should be small: {bomb.Length} bytes");
        using var response = await service.Client.PostAsync("/prediction?include=tensor", TestImages.Form(bomb));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
        var body = JsonSerializer.Deserialize<JsonElement>(text);
        Assert.All(body.GetProperty("tensor").GetProperty("data").EnumerateArray(), v => Assert.Equal(0f, v.GetSingle()));

        using var over = await service.PostFileAsync(TestImages.PngHeaderOnly(Side + 1, Side + 1));
        await HostileAssert.ProblemAsync(over, 4, "one pixel over the cap");
        Assert.Equal(HttpStatusCode.BadRequest, over.StatusCode);
    }

    [Fact]
    public async Task RepeatedBombsAreClassifiedLikeTheSmallImageAndLeaveNoMemoryBehind()
    {
        // The MNIST 7 blown up 142 times (3976 x 3976), still a small file because its rows repeat.
        const int factor = 142;
        var bomb = TestImages.PngGray8(28 * factor, 28 * factor, HostileImages.Digit(0, factor));
        Assert.True(bomb.Length < HostileService.MaxBytes, $"{bomb.Length} bytes");
        using (var warm = await service.PostFileAsync(bomb))
        {
            Assert.Equal(HttpStatusCode.OK, warm.StatusCode);
        }

        var before = ManagedBytesAfterCollection();
        for (var i = 0; i < 2; i++)
        {
            using var response = await service.PostFileAsync(bomb);
            var text = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {text}");
            Assert.Equal(7, JsonSerializer.Deserialize<JsonElement>(text).GetProperty("likely_class").GetInt32());
        }

        var grown = ManagedBytesAfterCollection() - before;
        Assert.True(grown < 64L << 20, $"two 16-megapixel uploads left {grown >> 20} MB of managed memory behind");
        await service.AssertStillServingAsync("decompression bombs");
    }

    private static long ManagedBytesAfterCollection()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
