using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;

namespace PredictionApi.Tests.ObjectStorage;

/// <summary>
/// What the service does while the object store is unreachable: the s3rver process is really stopped
/// and restarted on the same port with the same data. Tests in this class run one after the other.
/// </summary>
public sealed class ObjectStoreOutageTests : IAsyncLifetime
{
    private const string Bucket = "outage";
    private S3rver _s3 = null!;
    private string _database = null!;
    private PredictionApiFactory _factory = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        _s3 = await S3rver.StartNewAsync(Bucket);
        _database = await TestPostgres.CreateDatabaseAsync("s3outage");
        var settings = _s3.Settings(Bucket, ObjectStorageFixture.Prefix);
        // Retry failed deletes after 1 s, 2 s, 2 s, ... so the test does not wait minutes.
        settings["ObjectStorage:DeletionRetryMaxSeconds"] = "2";
        settings["ObjectStorage:TimeoutSeconds"] = "3";
        _factory = new PredictionApiFactory(_database, settings);
        _client = _factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _factory.DisposeAsync();
        await _s3.DisposeAsync();
        await TestPostgres.DropDatabaseAsync(_database);
    }

    private async Task<T> ScalarAsync<T>(string sql, object? parameters = null)
    {
        await using var connection = new Npgsql.NpgsqlConnection(_database);
        return await Dapper.SqlMapper.ExecuteScalarAsync<T>(connection, sql, parameters) ?? throw new InvalidOperationException("no value");
    }

    [Fact]
    public async Task ADeleteWhileTheStoreIsDownDeletesTheRowsQueuesTheObjectAndTheObjectGoesOnceTheStoreIsBack()
    {
        var png = UniqueImages.Png();
        var key = ObjectStorageFixture.KeyOf(png);
        var body = await _client.PostPredictionAsync(png);
        var (id, inputId) = (body.GetProperty("prediction_id").GetInt64(), body.GetProperty("input_id").GetInt64());

        await _s3.StopAsync();
        using (var deleted = await _client.DeleteAsync($"/prediction/{id}"))
        {
            // The database part is done and committed; the object delete is owed, not lost.
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM predictions WHERE id = @id", new { id }));
        Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM inputs WHERE id = @inputId", new { inputId }));
        Assert.Equal(1L, await ScalarAsync<long>("SELECT count(*) FROM object_deletions WHERE object_key = @key AND attempts >= 1 AND last_error IS NOT NULL", new { key }));
        using (var gone = await _client.GetAsync($"/prediction/{id}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        await _s3.StartAsync();
        using var s3 = _s3.CreateClient();
        // The object survived the outage: the failed delete did not happen half-way. (The worker may already
        // have retried once the store came back; then its outbox row is gone with the object.)
        var survived = await ObjectStorageFixture.TryGetObjectAsync(s3, Bucket, key);
        if (survived is null)
        {
            Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM object_deletions WHERE object_key = @key", new { key }));
        }
        else
        {
            Assert.Equal(png, survived);
        }

        await ObjectStorageFixture.EventuallyAsync(
            async () => await ScalarAsync<long>("SELECT count(*) FROM object_deletions") == 0,
            "the deletion worker has emptied the outbox");
        Assert.Null(await ObjectStorageFixture.TryGetObjectAsync(s3, Bucket, key));
    }

    [Fact]
    public async Task AStoreThatHangsIsReportedAsTheStoreAndNeverTurnsACommittedChangeIntoAFailure()
    {
        var (deleted, labelled) = (await _client.PostPredictionAsync(UniqueImages.Png()), await _client.PostPredictionAsync(UniqueImages.Png()));
        var deletedId = deleted.GetProperty("prediction_id").GetInt64();
        var labelledId = labelled.GetProperty("prediction_id").GetInt64();
        await _s3.SignalAsync("STOP");
        try
        {
            // The rows are gone and committed: the object's delete waits a moment, then stays queued for the worker.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using (var delete = await _client.DeleteAsync($"/prediction/{deletedId}"))
            {
                Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"the delete waited {clock.Elapsed} for the store");
            // The label is committed before the answer reads the image: the 503 says the change was stored.
            using (var patch = await _client.PatchAsync($"/prediction/{labelledId}", new StringContent("""{"true_label": "4"}""", System.Text.Encoding.UTF8, "application/json")))
            {
                var problem = await ProblemAssert.AssertProblemAsync(patch, HttpStatusCode.ServiceUnavailable, "The change was stored");
                Assert.Equal("Stored, image unavailable", problem.GetProperty("title").GetString());
            }

            Assert.Equal("4", await ScalarAsync<string>("SELECT true_label FROM predictions WHERE id = @labelledId", new { labelledId }));
            // An upload names the store, not the database.
            using var posted = await _client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));
            var upload = await ProblemAssert.AssertProblemAsync(posted, HttpStatusCode.ServiceUnavailable, "object storage");
            Assert.Equal("Object storage unavailable", upload.GetProperty("title").GetString());
        }
        finally
        {
            await _s3.SignalAsync("CONT");
        }
    }

    [Fact]
    public async Task ABucketThatDoesNotExistIsNamedAsSuchNotAsAnOutageToWaitOut()
    {
        var settings = _s3.Settings("no-such-bucket", ObjectStorageFixture.Prefix);
        await using var factory = new PredictionApiFactory(_database, settings);
        using var client = factory.CreateClient();

        using var posted = await client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));

        await ProblemAssert.AssertProblemAsync(posted, HttpStatusCode.ServiceUnavailable, "The bucket 'no-such-bucket' does not exist");
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("bucket no-such-bucket does not exist", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnUploadWhileTheStoreIsDownIs503AndStoresNothingAndTheServiceIsNotReady()
    {
        var before = await ScalarAsync<long>("SELECT count(*) FROM inputs");
        await _s3.StopAsync();
        try
        {
            using var posted = await _client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));
            await ProblemAssert.AssertProblemAsync(posted, HttpStatusCode.ServiceUnavailable, "nothing was stored");
            Assert.Equal(before, await ScalarAsync<long>("SELECT count(*) FROM inputs"));
            Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM predictions"));

            using var ready = await _client.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        }
        finally
        {
            await _s3.StartAsync();
        }

        // And it serves again once the store is back.
        using var retried = await _client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
        using var readyAgain = await _client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, readyAgain.StatusCode);
    }

    [Fact]
    public async Task AStoreOutageUnderLoadIsLoggedOnceWhenItStartsAndOnceWhenItEndsWithoutStackTraces()
    {
        var logs = new LogCapture();
        await using var factory = _factory.WithWebHostBuilder(b => b.ConfigureLogging(l =>
        {
            l.AddProvider(logs);
            l.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));
        using var client = factory.CreateClient();
        await _s3.StopAsync();
        try
        {
            // 8 clients, 5 uploads each: every one fails, and each used to log two warnings, one with a stack trace.
            var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
            {
                var statuses = new List<HttpStatusCode>();
                for (var i = 0; i < 5; i++)
                {
                    using var posted = await client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));
                    statuses.Add(posted.StatusCode);
                }

                return statuses;
            }));
            Assert.All(answers.SelectMany(a => a), s => Assert.Equal(HttpStatusCode.ServiceUnavailable, s));
        }
        finally
        {
            await _s3.StartAsync();
        }

        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!logs.Entries.Any(e => e.Message.Contains("answers again", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "the end of the outage was not logged");
            await Task.Delay(100);
        }

        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning).ToList();
        Assert.DoesNotContain(warnings, e => e.Exception is not null);
        var outage = Assert.Single(warnings, e => e.Message.Contains("is unavailable", StringComparison.Ordinal));
        Assert.Contains($"bucket {Bucket}", outage.Message);
        Assert.Contains("40 requests failed", Assert.Single(warnings, e => e.Message.Contains("answers again", StringComparison.Ordinal)).Message);
        using var retried = await client.PostAsync("/prediction", TestImages.Form(UniqueImages.Png()));
        Assert.Equal(HttpStatusCode.OK, retried.StatusCode);
    }
}
