using System.Net;
using Dapper;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;
using PredictionApi.Storage;

namespace PredictionApi.Tests.Hostile;

/// <summary>
/// PostgreSQL that answers but too slowly: a lock held on the table every upload writes, with a statement_timeout on
/// the service's sessions. PostgreSQL cancels the statements (57014) and rolls them back, so every upload is a 503 that
/// says nothing was stored (not a 500 that leaves it open), with Retry-After, logged as one outage without stack traces.
/// </summary>
public sealed class SlowDatabaseTests : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("slow");

    public async Task DisposeAsync() => await TestPostgres.DropDatabaseAsync(_database);

    [Fact]
    public async Task UploadsCancelledByAStatementTimeoutAre503NothingStoredAndOneOutageInTheLog()
    {
        var logs = new LogCapture();
        var timed = new NpgsqlConnectionStringBuilder(_database) { Options = "-c statement_timeout=300" }.ConnectionString;
        await using var factory = new PredictionApiFactory(timed).WithWebHostBuilder(b => b.ConfigureLogging(l =>
        {
            l.AddProvider(logs);
            l.AddFilter<LogCapture>(null, LogLevel.Trace);
        }));
        using var client = factory.CreateClient();
        await client.PostPredictionAsync(Mnist.Png(0));
        var before = await CountAsync();

        var failures = new List<HttpResponseMessage>();
        await using (var locker = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(_database) { Pooling = false }.ConnectionString))
        {
            await locker.OpenAsync();
            await using var transaction = await locker.BeginTransactionAsync();
            await locker.ExecuteAsync("LOCK TABLE inputs IN ACCESS EXCLUSIVE MODE", transaction: transaction);
            // Two clients each upload one after the other while the lock lasts (three timeouts each, less than the outage
            // log's probe interval apart), beside a batch and an upload with an Idempotency-Key (a transaction of its own).
            var sequential = Enumerable.Range(0, 2).Select(async c =>
            {
                var answers = new List<HttpResponseMessage>();
                for (var i = 0; i < 3; i++)
                {
                    answers.Add(await client.PostAsync("/prediction", TestImages.Form(Mnist.Png(c * 3 + i + 1), $"slow-{c}-{i}.png")));
                }

                return answers;
            }).ToList();
            var batch = client.PostAsync("/predictions/batch", TestImages.Form(Mnist.Png(7), "b.png"));
            using var keyed = new HttpRequestMessage(HttpMethod.Post, "/prediction") { Content = TestImages.Form(Mnist.Png(8), "k.png") };
            keyed.Headers.Add("Idempotency-Key", "slow-" + Guid.NewGuid().ToString("N"));
            var withKey = client.SendAsync(keyed);
            foreach (var answers in await Task.WhenAll(sequential))
            {
                failures.AddRange(answers);
            }

            failures.Add(await batch);
            failures.Add(await withKey);
            await transaction.RollbackAsync();
        }

        foreach (var response in failures)
        {
            var problem = await HostileAssert.ProblemAsync(response, 5, "an upload cancelled by statement_timeout");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("Service unavailable", problem.GetProperty("title").GetString());
            Assert.Contains("nothing was stored", problem.GetProperty("detail").GetString());
            Assert.NotNull(response.Headers.RetryAfter);
            response.Dispose();
        }

        Assert.Equal(before, await CountAsync());
        await client.PostPredictionAsync(Mnist.Png(9));
        Assert.Equal((before.Inputs + 1, before.Predictions + 1), await CountAsync());

        // The statements kept failing while PostgreSQL answered the outage log's probe: one outage, not one per probe.
        await WaitForAsync(() => logs.Entries.Any(e => e.Message.Contains("answers again", StringComparison.Ordinal)));
        var outage = logs.Entries.Where(e => e.Category == typeof(DatabaseOutage).FullName).ToList();
        Assert.Single(outage, e => e.Message.Contains("is unavailable", StringComparison.Ordinal) && e.Message.Contains("57014", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Exception is not null);
    }

    private async Task<(long Inputs, long Predictions)> CountAsync()
    {
        await using var connection = new NpgsqlConnection(_database);
        return await connection.QuerySingleAsync<(long, long)>("SELECT (SELECT count(*) FROM inputs), (SELECT count(*) FROM predictions)");
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(100);
        }
    }
}
