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
        // A batch records its key too.
        using var batch = await bobClient.PostAsync("/predictions/batch", TestImages.Form(Mnist.Png(6)));
        Assert.Equal(HttpStatusCode.OK, batch.StatusCode);
        var bobBatchId = (await batch.Content.ReadFromJsonAsync<JsonElement>())[0].GetProperty("prediction_id").GetInt64();

        var one = await aliceClient.GetFromJsonAsync<JsonElement>($"/prediction/{aliceIds[0]}");
        Assert.Equal(alice.Name, one.GetProperty("created_by").GetString());
        var all = (await aliceClient.WalkPredictionsAsync("", 2)).SelectMany(p => p).ToDictionary(p => p.GetProperty("prediction_id").GetInt64());
        Assert.Equal(bob.Name, all[bobId].GetProperty("created_by").GetString());
        Assert.Equal(bob.Name, all[bobBatchId].GetProperty("created_by").GetString());

        // Paged with a cursor (limit 2 over 3 rows), newest first, only alice's.
        var alices = (await aliceClient.WalkPredictionsAsync($"created_by={alice.Name}", 2)).SelectMany(p => p).ToList();
        Assert.Equal(aliceIds.AsEnumerable().Reverse(), alices.Select(p => p.GetProperty("prediction_id").GetInt64()));
        Assert.All(alices, p => Assert.Equal(alice.Name, p.GetProperty("created_by").GetString()));
        var bobs = (await aliceClient.WalkPredictionsAsync($"created_by={bob.Name}&fields=created_by", 10)).Single();
        Assert.Equal([bobBatchId, bobId], bobs.Select(p => p.GetProperty("prediction_id").GetInt64()));
        Assert.Empty((await aliceClient.WalkPredictionsAsync("created_by=nobody", 10)).Single());

        // A cursor of one key's listing does not continue another's.
        var first = await aliceClient.GetFromJsonAsync<JsonElement>($"/predictions?created_by={alice.Name}&limit=1");
        using var foreign = await aliceClient.GetAsync($"/predictions?created_by={bob.Name}&limit=1&cursor={first.GetProperty("next_cursor").GetString()}");
        await ProblemAssert.AssertProblemAsync(foreign, HttpStatusCode.BadRequest, "created_by");
        await ProblemAssert.AssertProblemAsync(await aliceClient.GetAsync("/predictions?created_by="), HttpStatusCode.BadRequest, "created_by");
    }
}
