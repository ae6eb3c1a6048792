using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using PredictionApi.Storage;
using PredictionApi.Tests.Infrastructure;

namespace PredictionApi.Tests.Storage;

/// <summary>
/// The service prepares its statements and skips Npgsql's DISCARD ALL only where that is safe: a connection
/// straight to PostgreSQL, unless the connection string decides; never through something listening on
/// another port (a pooler), nor when ConnectionStrings:Jobs says a pooler is configured.
/// </summary>
public sealed class ConnectionTuningTests
{
    private static NpgsqlConnectionStringBuilder Tuned(string connectionString, string? jobs = null, ILogger? logger = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["ConnectionStrings:Jobs"] = jobs })
            .Build();
        return new NpgsqlConnectionStringBuilder(ConnectionTuning.Apply(new DatabaseEndpoint(connectionString, null), configuration, logger ?? NullLogger.Instance));
    }

    [Fact]
    public async Task ADirectConnectionPreparesStatementsAndKeepsItsSession()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("tuning");
        await using var proxy = new PostgresProxy(connectionString);
        try
        {
            // Straight to PostgreSQL over TCP (the proxy's target), where the port probed is the port connected to.
            var direct = new NpgsqlConnectionStringBuilder(proxy.ConnectionString) { Port = new NpgsqlConnectionStringBuilder(connectionString).Port };
            var tuned = Tuned(direct.ConnectionString);
            Assert.Equal(ConnectionTuning.AutoPrepared, tuned.MaxAutoPrepare);
            Assert.True(tuned.NoResetOnClose);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public async Task SomethingListeningOnAnotherPortGetsNoPreparedStatements()
    {
        var connectionString = await TestPostgres.CreateDatabaseAsync("tuning");
        await using var proxy = new PostgresProxy(connectionString);
        try
        {
            var logs = new LogCapture();
            var tuned = Tuned(proxy.ConnectionString, logger: logs.CreateLogger("tuning"));
            Assert.Equal(0, tuned.MaxAutoPrepare);
            Assert.True(tuned.NoResetOnClose);
            // Without ConnectionStrings:Jobs the periodic jobs' lock would sit on pooled sessions: the operator is warned.
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Warning && e.Message.Contains("ConnectionStrings:Jobs is not set"));
            var withJobs = new LogCapture();
            Tuned(proxy.ConnectionString, jobs: connectionString, logger: withJobs.CreateLogger("tuning"));
            Assert.DoesNotContain(withJobs.Entries, e => e.Level == LogLevel.Warning);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(connectionString);
        }
    }

    [Fact]
    public void AJobsConnectionMeansAPoolerAndNoPreparedStatements()
    {
        // Decided from the configuration alone: nothing needs to answer on this port.
        var tuned = Tuned($"Host=127.0.0.1;Port={TestPostgres.FreePort()};Username=postgres", jobs: "Host=127.0.0.1;Port=5432;Username=postgres");
        Assert.Equal(0, tuned.MaxAutoPrepare);
    }

    [Fact]
    public void ADatabaseThatDoesNotAnswerAtStartGetsNoPreparedStatements()
    {
        var tuned = Tuned($"Host=127.0.0.1;Port={TestPostgres.FreePort()};Username=postgres;Timeout=2");
        Assert.Equal(0, tuned.MaxAutoPrepare);
        Assert.True(tuned.NoResetOnClose);
    }

    [Theory]
    [InlineData("Max Auto Prepare=5;No Reset On Close=false", 5, false)]
    [InlineData("MaxAutoPrepare=0;NoResetOnClose=false", 0, false)]
    public void TheConnectionStringsOwnSettingsWin(string settings, int prepared, bool noReset)
    {
        var tuned = Tuned($"Host=127.0.0.1;Port={TestPostgres.FreePort()};Username=postgres;{settings}");
        Assert.Equal(prepared, tuned.MaxAutoPrepare);
        Assert.Equal(noReset, tuned.NoResetOnClose);
    }
}
