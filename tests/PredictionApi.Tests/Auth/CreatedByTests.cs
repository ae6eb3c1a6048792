using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace PredictionApi.Tests.Auth;

/// <summary>Every stored prediction names the key that sent it, in GET answers and as a listing filter.</summary>
public sealed class CreatedByTests(KeyedService service) : IClassFixture<KeyedService>
{
    [Fact]
    public async Task EachPredictionRecordsItsKeyAndTheListingFiltersByIt()
    {
        var (alice, aliceKey) = await service.CreateKeyAsync("alice", ["predict", "read"]);
        var (bob, bobKey) = await service.CreateKeyAsync("bob", ["predict", "read"]);
        using var aliceClient = service.Client(aliceKey);
        using var bobClient = service.Client(bobKey);
        var aliceIds = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            aliceIds.Add((await aliceClient.PostPredictionAsync(Mnist.Png(i))).GetProperty("prediction_id").GetInt64());
        }

        var bobId = (await bobClient.PostPredictionAsync(Mnist.Png(5))).GetProperty("prediction_id").GetInt64();
        // A batch of two records its key too: both pairs go in one statement, through unnest arrays.
        using var form = new MultipartFormDataContent();
        foreach (var digit in new[] { 6, 7 })
        {
            var png = new ByteArrayContent(Mnist.Png(digit));
            png.Headers.ContentType = new("image/png");
            form.Add(png, "file", $"batch-{digit}.png");
        }

        using var batch = await bobClient.PostAsync("/predictions/batch", form);
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var batchIds = (await batch.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(r => r.GetProperty("prediction_id").GetInt64()).ToList();
        Assert.Equal(2, batchIds.Count);
        var bobBatchId = batchIds[1];

        var one = await aliceClient.GetFromJsonAsync<JsonElement>($"/prediction/{aliceIds[0]}");
        Assert.Equal(alice.Name, one.GetProperty("created_by").GetString());
        var all = (await aliceClient.WalkPredictionsAsync("", 2)).SelectMany(p => p).ToDictionary(p => p.GetProperty("prediction_id").GetInt64());
        Assert.Equal(bob.Name, all[bobId].GetProperty("created_by").GetString());
        Assert.All(batchIds, id => Assert.Equal(bob.Name, all[id].GetProperty("created_by").GetString()));

        // Paged with a cursor (limit 2 over 3 rows), newest first, only alice's.
        var alices = (await aliceClient.WalkPredictionsAsync($"created_by={alice.Name}", 2)).SelectMany(p => p).ToList();
        Assert.Equal(aliceIds.AsEnumerable().Reverse(), alices.Select(p => p.GetProperty("prediction_id").GetInt64()));
        Assert.All(alices, p => Assert.Equal(alice.Name, p.GetProperty("created_by").GetString()));
        var bobs = (await aliceClient.WalkPredictionsAsync($"created_by={bob.Name}&fields=created_by", 10)).Single();
        Assert.Equal(batchIds.OrderDescending().Append(bobId), bobs.Select(p => p.GetProperty("prediction_id").GetInt64()));
        Assert.Empty((await aliceClient.WalkPredictionsAsync("created_by=nobody", 10)).Single());

        // A cursor of one key's listing does not continue another's.
        var first = await aliceClient.GetFromJsonAsync<JsonElement>($"/predictions?created_by={alice.Name}&limit=1");
        using var foreign = await aliceClient.GetAsync($"/predictions?created_by={bob.Name}&limit=1&cursor={first.GetProperty("next_cursor").GetString()}");
        await ProblemAssert.AssertProblemAsync(foreign, HttpStatusCode.BadRequest, "created_by");
        await ProblemAssert.AssertProblemAsync(await aliceClient.GetAsync("/predictions?created_by="), HttpStatusCode.BadRequest, "created_by");
    }

    [Fact]
    public async Task ConcurrentUploadsOfTwoKeysSharingGroupCommitsEachRecordTheirOwnKey()
    {
        var keys = new[] { await service.CreateKeyAsync("left", ["predict", "read"]), await service.CreateKeyAsync("right", ["predict", "read"]) };
        var clients = keys.Select(k => service.Client(k.Key)).ToArray();

        // Uploads waiting at the same moment are inserted by one statement: the names must not be shuffled in it.
        var uploads = await Task.WhenAll(Enumerable.Range(0, 32).Select(async i =>
            (Key: keys[i % 2].Row.Name, Id: (await clients[i % 2].PostPredictionAsync(Mnist.Png(i))).GetProperty("prediction_id").GetInt64())));

        foreach (var (key, id) in uploads)
        {
            var stored = await clients[0].GetFromJsonAsync<JsonElement>($"/prediction/{id}");
            Assert.Equal(key, stored.GetProperty("created_by").GetString());
        }

        foreach (var client in clients)
        {
            client.Dispose();
        }
    }
}
