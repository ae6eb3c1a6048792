using PredictionApi.Commands;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PredictionApi.Predictions;
using PredictionApi.Storage.InputStores;
using PredictionApi.Tests.Queries;

namespace PredictionApi.Tests.ObjectStorage;

/// <summary>ObjectStorage:Enabled: inputs live in an S3-compatible bucket (a real s3rver), rows in PostgreSQL.</summary>
public sealed class ObjectStorageTests(ObjectStorageFixture fixture) : IClassFixture<ObjectStorageFixture>
{
    private readonly HttpClient _client = fixture.Factory.CreateClient(new() { AllowAutoRedirect = false });

    [Fact]
    public async Task AnUploadIsPutInTheBucketAndItsRowHoldsTheKeyAndHashInsteadOfTheBytes()
    {
        var png = UniqueImages.Png();
        var body = await _client.PostPredictionAsync(png);
        var inputId = body.GetProperty("input_id").GetInt64();

        var row = await fixture.QuerySingleAsync<(string Kind, string? Data, string? Key, byte[] Sha256, int Size)>(
            "SELECT storage_kind, data, object_key, sha256, byte_size FROM inputs WHERE id = @inputId", new { inputId });
        Assert.Equal("object", row.Kind);
        Assert.Null(row.Data);
        Assert.Equal(ObjectStorageFixture.KeyOf(png), row.Key);
        Assert.Equal(SHA256.HashData(png), row.Sha256);
        Assert.Equal(png.Length, row.Size);

        using var stored = await fixture.S3Client.GetObjectAsync(ObjectStorageFixture.Bucket, row.Key);
        using var buffer = new MemoryStream();
        await stored.ResponseStream.CopyToAsync(buffer);
        Assert.Equal(png, buffer.ToArray());
        Assert.Equal("image/png", stored.Headers.ContentType);
    }

    [Fact]
    public async Task ListingWithFieldsImageEmbedsImagesFromTheBucketAndTheDatabaseAndNullForAnObjectThatIsGone()
    {
        var since = DateTime.UtcNow.AddSeconds(-1);
        var (kept, gone, inDatabase) = (UniqueImages.Png(), UniqueImages.Png(), UniqueImages.Png());
        var keptId = (await _client.PostPredictionAsync(kept, "kept.png")).GetProperty("prediction_id").GetInt64();
        var goneId = (await _client.PostPredictionAsync(gone, "gone.png")).GetProperty("prediction_id").GetInt64();
        long inDatabaseId;
        await using (var databaseMode = new PredictionApiFactory(fixture.ConnectionString))
        {
            using var client = databaseMode.CreateClient();
            inDatabaseId = (await client.PostPredictionAsync(inDatabase, "db.png")).GetProperty("prediction_id").GetInt64();
        }

        // The object of one input disappears behind the service's back.
        await fixture.S3Client.DeleteObjectAsync(ObjectStorageFixture.Bucket, ObjectStorageFixture.KeyOf(gone));

        using var response = await _client.GetAsync($"/predictions?fields=filename,image&limit=500&from={Seed.IsoPrecise(since)}");
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var items = JsonSerializer.Deserialize<JsonElement>(text).GetProperty("items").EnumerateArray()
            .ToDictionary(i => i.GetProperty("prediction_id").GetInt64());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(kept), items[keptId].GetProperty("image").GetString());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(inDatabase), items[inDatabaseId].GetProperty("image").GetString());
        Assert.Equal(JsonValueKind.Null, items[goneId].GetProperty("image").ValueKind);
        Assert.All(new[] { keptId, goneId, inDatabaseId }, id =>
            Assert.Equal(["prediction_id", "filename", "image"], items[id].EnumerateObject().Select(p => p.Name)));
        Assert.Equal("gone.png", items[goneId].GetProperty("filename").GetString());
    }

    [Fact]
    public async Task ListingWithFieldsImageWhileTheStoreIsUnreachableIs503NotAPageWithoutImages()
    {
        var since = DateTime.UtcNow.AddSeconds(-1);
        await _client.PostPredictionAsync(UniqueImages.Png());
        // Same database, but the object store is at an address where nothing answers.
        var settings = fixture.S3.Settings(ObjectStorageFixture.Bucket, ObjectStorageFixture.Prefix);
        settings["ObjectStorage:ServiceUrl"] = $"http://127.0.0.1:{TestPostgres.FreePort()}";
        await using var unreachable = new PredictionApiFactory(fixture.ConnectionString, settings);
        using var client = unreachable.CreateClient();

        using var response = await client.GetAsync($"/predictions?fields=image&from={Seed.IsoPrecise(since)}");

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, "object storage");
        // Without images the same page is served from PostgreSQL alone.
        using var plain = await client.GetAsync($"/predictions?from={Seed.IsoPrecise(since)}");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
    }

    [Fact]
    public async Task APatchAnswersWithTheImageReadFromTheBucket()
    {
        var png = UniqueImages.Png();
        var id = (await _client.PostPredictionAsync(png)).GetProperty("prediction_id").GetInt64();

        using var response = await _client.PatchAsync($"/prediction/{id}", JsonContent.Create(new { true_label = "3" }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("3", body.GetProperty("true_label").GetString());
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), body.GetProperty("image").GetString());
    }

    [Fact]
    public async Task GetImageRedirectsToAPresignedUrlThatServesTheImageWhenConfigured()
    {
        var settings = fixture.S3.Settings(ObjectStorageFixture.Bucket, ObjectStorageFixture.Prefix);
        settings["ObjectStorage:PresignedRedirect"] = "true";
        settings["ObjectStorage:PresignedUrlExpirySeconds"] = "120";
        await using var factory = new PredictionApiFactory(fixture.ConnectionString, settings);
        using var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        var png = UniqueImages.Png();
        var id = (await client.PostPredictionAsync(png)).GetProperty("prediction_id").GetInt64();

        using var response = await client.GetAsync($"/prediction/{id}/image");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(fixture.S3.ServiceUrl, location.AbsoluteUri);
        Assert.Contains("X-Amz-Expires=120", location.Query);
        Assert.Contains("no-store", response.Headers.CacheControl?.ToString());

        // The URL works without credentials: it is what a browser would follow.
        using var direct = new HttpClient();
        using var image = await direct.GetAsync(location);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task IdenticalUploadsShareOneObjectWhichIsDeletedOnlyWithTheLastInputUsingIt()
    {
        var png = UniqueImages.Png();
        var key = ObjectStorageFixture.KeyOf(png);
        var first = (await _client.PostPredictionAsync(png, "a.png")).GetProperty("prediction_id").GetInt64();
        var second = (await _client.PostPredictionAsync(png, "b.png")).GetProperty("prediction_id").GetInt64();
        Assert.Equal(2, await fixture.QuerySingleAsync<int>("SELECT count(*)::int FROM inputs WHERE object_key = @key", new { key }));

        using (var deleted = await _client.DeleteAsync($"/prediction/{first}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // The other input still points at the object, so it stays, and nothing is queued for it.
        Assert.Equal(png, await ObjectStorageFixture.TryGetObjectAsync(fixture.S3Client, ObjectStorageFixture.Bucket, key));
        Assert.Equal(0, await fixture.QuerySingleAsync<int>("SELECT count(*)::int FROM object_deletions WHERE object_key = @key", new { key }));
        using (var image = await _client.GetAsync($"/prediction/{second}/image"))
        {
            Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());
        }

        using (var deleted = await _client.DeleteAsync($"/prediction/{second}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        // The last reference is gone: the delete removes the object before answering and empties the outbox.
        Assert.Null(await ObjectStorageFixture.TryGetObjectAsync(fixture.S3Client, ObjectStorageFixture.Bucket, key));
        Assert.Equal(0, await fixture.QuerySingleAsync<int>("SELECT count(*)::int FROM object_deletions WHERE object_key = @key", new { key }));
        Assert.Equal(0, await fixture.QuerySingleAsync<int>("SELECT count(*)::int FROM inputs WHERE object_key = @key", new { key }));
    }

    [Fact]
    public async Task ABatchPutsEachGoodFileInTheBucket()
    {
        var (a, b) = (UniqueImages.Png(), UniqueImages.Png());
        var form = TestImages.Form(a, "a.png");
        form.Add(new ByteArrayContent("text"u8.ToArray()), "file", "b.txt");
        form.Add(new ByteArrayContent(b), "file", "c.png");
        using var response = await _client.PostAsync("/predictions/batch", form);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().ToArray();
        Assert.Equal(415, items[1].GetProperty("error").GetProperty("status").GetInt32());

        foreach (var (item, png) in new[] { (items[0], a), (items[2], b) })
        {
            var inputId = item.GetProperty("input_id").GetInt64();
            Assert.Equal(ObjectStorageFixture.KeyOf(png), await fixture.QuerySingleAsync<string>("SELECT object_key FROM inputs WHERE id = @inputId", new { inputId }));
            Assert.Equal(png, await ObjectStorageFixture.TryGetObjectAsync(fixture.S3Client, ObjectStorageFixture.Bucket, ObjectStorageFixture.KeyOf(png)));
        }
    }

    [Fact]
    public async Task AQueuedDeleteOfAKeyThatIsReferencedAgainDropsTheQueueEntryAndKeepsTheObject()
    {
        // A delete was queued, then the same bytes were uploaded again before the worker ran.
        var png = UniqueImages.Png();
        var key = ObjectStorageFixture.KeyOf(png);
        await _client.PostPredictionAsync(png);
        await fixture.QuerySingleAsync<int>("INSERT INTO object_deletions (object_key) VALUES (@key) RETURNING 1", new { key });

        var deletions = fixture.Factory.Services.GetRequiredService<ObjectDeletions>();
        await deletions.ProcessDueAsync(CancellationToken.None);

        Assert.Equal(0, await fixture.QuerySingleAsync<int>("SELECT count(*)::int FROM object_deletions WHERE object_key = @key", new { key }));
        Assert.Equal(png, await ObjectStorageFixture.TryGetObjectAsync(fixture.S3Client, ObjectStorageFixture.Bucket, key));
    }

    [Fact]
    public async Task ImagesStoredInTheDatabaseBeforeObjectStorageWasEnabledAreStillServed()
    {
        var png = UniqueImages.Png();
        long id;
        await using (var databaseMode = new PredictionApiFactory(fixture.ConnectionString))
        {
            using var client = databaseMode.CreateClient();
            id = (await client.PostPredictionAsync(png)).GetProperty("prediction_id").GetInt64();
        }

        Assert.Equal("database", await fixture.QuerySingleAsync<string>(
            "SELECT i.storage_kind FROM predictions p JOIN inputs i ON i.id = p.input_id WHERE p.id = @id", new { id }));
        using var image = await _client.GetAsync($"/prediction/{id}/image");
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());
        var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(png), stored.GetProperty("image").GetString());
    }

    [Fact]
    public async Task ADatabaseModeServiceSaysWhyItCannotServeAnImageKeptInObjectStorage()
    {
        var id = (await _client.PostPredictionAsync(UniqueImages.Png())).GetProperty("prediction_id").GetInt64();
        await using var databaseMode = new PredictionApiFactory(fixture.ConnectionString);
        using var client = databaseMode.CreateClient();

        using var image = await client.GetAsync($"/prediction/{id}/image");
        await ProblemAssert.AssertProblemAsync(image, HttpStatusCode.ServiceUnavailable, "ObjectStorage:Enabled");
        using var stored = await client.GetAsync($"/prediction/{id}");
        await ProblemAssert.AssertProblemAsync(stored, HttpStatusCode.ServiceUnavailable, "object storage");
    }

    [Fact]
    public async Task TheReadinessProbeChecksTheBucket()
    {
        using var ready = await _client.GetAsync("/health/ready");
        Assert.True(ready.StatusCode == HttpStatusCode.OK, await ready.Content.ReadAsStringAsync());
        var body = await ready.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("Healthy", body.GetProperty("checks").GetProperty("object_storage").GetProperty("status").GetString());
    }

    [Theory]
    [InlineData("ObjectStorage:Bucket", "", "ObjectStorage:Bucket must name the bucket")]
    [InlineData("ObjectStorage:Bucket", "Not_A_Bucket", "is not a bucket name")]
    [InlineData("ObjectStorage:ServiceUrl", "ftp://example", "must be an absolute http:// or https:// URL")]
    [InlineData("ObjectStorage:SecretKey", "", "Set both ObjectStorage:AccessKey and ObjectStorage:SecretKey")]
    [InlineData("ObjectStorage:Prefix", "/inputs", "must not start with '/'")]
    [InlineData("ObjectStorage:PresignedUrlExpirySeconds", "0", "PresignedUrlExpirySeconds must be between 1 and 604800")]
    public async Task BadObjectStorageSettingsStopTheProgramAtStartWithAMessageSayingWhatToFix(string key, string value, string message)
    {
        // The predict command starts the same services as the web host (ValidateOnStart included) and reports start failures.
        var settings = fixture.S3.Settings(ObjectStorageFixture.Bucket);
        settings["ConnectionStrings:Predictions"] = fixture.ConnectionString;
        settings[key] = value;
        var folder = Directory.CreateTempSubdirectory("predictionapi-label-").FullName;
        using var output = new StringWriter();
        using var error = new StringWriter();
        try
        {
            var exit = await PredictCommand.RunAsync([folder, .. settings.Select(s => $"--{s.Key}={s.Value}")], output, error, CancellationToken.None);
            Assert.Equal(PredictCommand.UsageError, exit);
            Assert.Contains(message, error.ToString());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
