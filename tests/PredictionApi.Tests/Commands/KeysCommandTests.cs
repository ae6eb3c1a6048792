using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Commands;

namespace PredictionApi.Tests.Commands;

/// <summary>The keys command run in-process through its entry point against a fresh database.</summary>
public sealed partial class KeysCommandTests : IAsyncLifetime
{
    private string _database = null!;

    public async Task InitializeAsync() => _database = await TestPostgres.CreateDatabaseAsync("keyscli");

    public async Task DisposeAsync() => await TestPostgres.DropDatabaseAsync(_database);

    private async Task<(int Exit, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = await KeysCommand.RunAsync([.. args, $"--ConnectionStrings:Predictions={_database}"], output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task CreatePrintsTheKeyAloneOnTheLastLineAndStoresOnlyItsHash()
    {
        var before = DateTime.UtcNow;
        var (exit, output, error) = await RunAsync("create", "--name", "ci", "--scopes", "read,predict",
            "--expires-in", "30d", "--requests-per-minute", "120");

        Assert.True(exit == KeysCommand.Ok, output + error);
        var lines = output.TrimEnd('\n').Split('\n');
        var key = lines[^1];
        Assert.Matches(KeyText(), key);
        Assert.Single(lines, l => l.Contains(key, StringComparison.Ordinal));
        await using var connection = new NpgsqlConnection(_database);
        var row = await connection.QuerySingleAsync<(string Name, byte[] Hash, string[] Scopes, int Limit, DateTime Expires)>(
            "SELECT name, key_sha256, scopes, requests_per_minute, expires_at FROM api_keys");
        Assert.Equal("ci", row.Name);
        Assert.Equal(ApiKeyTokens.Hash(key), row.Hash);
        Assert.Equal(["predict", "read"], row.Scopes);
        Assert.Equal(120, row.Limit);
        Assert.InRange(row.Expires, before.AddDays(30).AddMinutes(-1), DateTime.UtcNow.AddDays(30).AddMinutes(1));
    }

    [Fact]
    public async Task ListShowsNamesScopesAndStatesButNeverAKeyOrItsHash()
    {
        var ci = (await RunAsync("create", "--name", "ci", "--scopes", "predict")).Output.TrimEnd().Split('\n')[^1];
        var ops = (await RunAsync("create", "--name", "ops", "--scopes", "admin,read")).Output.TrimEnd().Split('\n')[^1];
        Assert.Equal(KeysCommand.Ok, (await RunAsync("revoke", "ops")).Exit);

        var (exit, output, _) = await RunAsync("list");

        Assert.Equal(KeysCommand.Ok, exit);
        Assert.Matches(@"(?m)^ci\s+active\s+predict\s", output);
        Assert.Matches(@"(?m)^ops\s+revoked\s+read,admin\s", output);
        foreach (var key in new[] { ci, ops })
        {
            Assert.DoesNotContain(key, output, StringComparison.Ordinal);
            Assert.DoesNotContain(key[ApiKeyTokens.Prefix.Length..][..12], output, StringComparison.Ordinal);
            Assert.DoesNotContain(Convert.ToHexString(ApiKeyTokens.Hash(key))[..16], output, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task RevokeMarksTheKeyAndANameCanBeReusedOnlyAfterIt()
    {
        Assert.Equal(KeysCommand.Ok, (await RunAsync("create", "--name", "ci", "--scopes", "read")).Exit);
        var taken = await RunAsync("create", "--name", "ci", "--scopes", "read");
        Assert.Equal(KeysCommand.Failed, taken.Exit);
        Assert.Contains("'ci' exists", taken.Error);

        var revoked = await RunAsync("revoke", "ci");
        Assert.Equal(KeysCommand.Ok, revoked.Exit);
        Assert.Contains("Revoked key 'ci'", revoked.Output);
        Assert.Equal(KeysCommand.Failed, (await RunAsync("revoke", "ci")).Exit);
        Assert.Equal(KeysCommand.Ok, (await RunAsync("create", "--name", "ci", "--scopes", "read")).Exit);
        await using var connection = new NpgsqlConnection(_database);
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM api_keys WHERE name = 'ci' AND revoked_at IS NOT NULL"));
        Assert.Equal(1, await connection.ExecuteScalarAsync<int>("SELECT count(*) FROM api_keys WHERE name = 'ci' AND revoked_at IS NULL"));
    }

    [Theory]
    [InlineData("--scopes predict,write", "'write' is not one")]
    [InlineData("--scopes read --expires-in 30x", "--expires-in takes")]
    [InlineData("--scopes read --requests-per-minute 0", "--requests-per-minute takes")]
    [InlineData("--scopes read --name bad/name", "is not")]
    public async Task BadArgumentsAreUsageErrorsThatSayWhatIsWrong(string arguments, string says)
    {
        var args = arguments.Split(' ');
        var (exit, output, error) = await RunAsync(["create", "--name", "ci", .. args]);

        Assert.Equal(KeysCommand.UsageError, exit);
        Assert.Contains(says, error);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData("create", "--name", "ci\n", "--scopes", "read")]
    [InlineData("create", "--name", "ci", "--scopes", "read", "--expires-in", "30d\n")]
    [InlineData("revoke", "ci\n")]
    public async Task ATrailingNewlineIsNotPartOfANameOrALifetime(params string[] args)
    {
        // A name with a newline looked like another key in 'keys list', and created_by= could never select its predictions.
        var (exit, output, error) = await RunAsync(args);

        Assert.Equal(KeysCommand.UsageError, exit);
        Assert.Contains($"'{args.Single(a => a.EndsWith('\n'))}'", error);
        Assert.Equal("", output);
    }

    [Fact]
    public async Task RevokeWithoutANameSaysTheNameIsMissing()
    {
        var (exit, output, error) = await RunAsync("revoke");

        Assert.Equal(KeysCommand.UsageError, exit);
        Assert.Contains("keys revoke needs the name", error);
        Assert.DoesNotContain("is not a keys command", error);
        Assert.Equal("", output);
    }

    [GeneratedRegex("^pak_[A-Za-z0-9_-]{43}$")]
    private static partial Regex KeyText();
}
