using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Auth;
using PredictionApi.Problems;
using PredictionApi.Storage;

namespace PredictionApi.Commands;

/// <summary>
/// The command-line mode that manages API keys: <c>PredictionApi keys create|list|revoke</c>, on the service's
/// database (same configuration as the service; the private local cluster without a connection string).
/// A key is printed once, alone on the last line of <c>create</c>'s output; only its SHA-256 is stored.
/// Exit code 0 on success, 1 when the name is taken or unknown, 2 for a usage or configuration error.
/// </summary>
public static partial class KeysCommand
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int UsageError = 2;

    private const string Usage = """
        Usage: PredictionApi keys create --name NAME --scopes predict,read[,feedback,admin] [--expires-in 30d] [--requests-per-minute N]
               PredictionApi keys list
               PredictionApi keys revoke NAME
               (each also takes --Section:Key=value configuration, for example --ConnectionStrings:Predictions=...)

        Scopes: predict (POST /prediction, batches), read (listings, predictions, images, stats, models),
        feedback (PATCH /prediction/{id}), admin (deletes, retention, model management, and any endpoint without a scope).
        --expires-in takes a number and a unit: s, m, h or d (30d). Once any key exists, every request needs one
        (health, the web page and the API reference excepted); a revoked key stops working within Auth:CacheSeconds.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!TryParse(args, out var request, out var configuration, out var problem))
        {
            await error.WriteLineAsync(problem is null ? Usage : $"{problem}\n\n{Usage}");
            return problem is null ? Ok : UsageError;
        }

        var builder = CommandHost.CreateBuilder(configuration);
        // Only the database: no model is loaded to manage keys.
        builder.AddStorage();
        builder.Services.AddSingleton<ApiKeyStore>();
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section);

        WebApplication? built = null;
        try
        {
            built = builder.Build();
            await built.StartAsync(cancellationToken);
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException or AggregateException or NpgsqlException or IOException)
        {
            if (built is not null)
            {
                await StartupFailures.StopAsync(built, error);
                await built.DisposeAsync();
            }

            await error.WriteLineAsync($"keys: cannot start: {StartupFailures.Describe(e) ?? e.Message}");
            return UsageError;
        }

        await using var app = built;
        try
        {
            var store = app.Services.GetRequiredService<ApiKeyStore>();
            return request.Verb switch
            {
                "create" => await CreateAsync(store, request, output, error, cancellationToken),
                "list" => await ListAsync(store, output, cancellationToken),
                _ => await RevokeAsync(store, request.Name!, app.Services.GetRequiredService<IOptions<AuthOptions>>().Value, output, error, cancellationToken),
            };
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<int> CreateAsync(ApiKeyStore store, KeysRequest request, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var expiresAt = request.ExpiresIn is { } lifetime ? DateTime.UtcNow + lifetime : (DateTime?)null;
        var created = await store.CreateAsync(request.Name!, request.Scopes, expiresAt, request.RequestsPerMinute, cancellationToken);
        if (created is not { } key)
        {
            await error.WriteLineAsync($"keys: a key named '{request.Name}' exists and is not revoked; revoke it first or choose another name.");
            return Failed;
        }

        var limit = key.Row.RequestsPerMinute is { } perMinute ? $"{perMinute} requests per minute" : "the default rate limit (Auth:DefaultRequestsPerMinute)";
        var expiry = key.Row.ExpiresAt is { } expires ? $"expires {Time(expires)}" : "does not expire";
        await output.WriteLineAsync($"Created key '{key.Row.Name}': scopes {string.Join(",", key.Row.Scopes)}; {expiry}; {limit}.");
        await output.WriteLineAsync("Copy it now: it is shown only this once (only its SHA-256 is stored). Send it as 'Authorization: Bearer <key>'.");
        await output.WriteLineAsync(key.Key);
        return Ok;
    }

    private static async Task<int> ListAsync(ApiKeyStore store, TextWriter output, CancellationToken cancellationToken)
    {
        var keys = await store.ListAsync(cancellationToken);
        if (keys.Count == 0)
        {
            await output.WriteLineAsync("No keys: the service is open (unless Auth:Required=true). 'keys create' makes the first.");
            return Ok;
        }

        var now = DateTime.UtcNow;
        var rows = keys.Select(k => new[]
        {
            k.Name,
            k.RevokedAt is not null ? "revoked" : k.IsExpired(now) ? "expired" : "active",
            string.Join(",", k.Scopes),
            k.RequestsPerMinute?.ToString(CultureInfo.InvariantCulture) ?? "default",
            Time(k.CreatedAt),
            k.LastUsedAt is { } used ? Time(used) : "never",
            k.ExpiresAt is { } expires ? Time(expires) : "never",
            k.RevokedAt is { } revoked ? Time(revoked) : "-",
        }).Prepend(["NAME", "STATE", "SCOPES", "PER MINUTE", "CREATED", "LAST USED", "EXPIRES", "REVOKED"]).ToList();
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            await output.WriteLineAsync(string.Join("  ", row.Select((cell, c) => cell.PadRight(widths[c]))).TrimEnd());
        }

        return Ok;
    }

    private static async Task<int> RevokeAsync(ApiKeyStore store, string name, AuthOptions options, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!await store.RevokeAsync(name, cancellationToken))
        {
            await error.WriteLineAsync($"keys: no active key is named '{name}'; 'keys list' shows the keys.");
            return Failed;
        }

        await output.WriteLineAsync($"Revoked key '{name}'; running instances refuse it within {options.CacheSeconds} s (Auth:CacheSeconds).");
        return Ok;
    }

    private static string Time(DateTime time) => time.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>What the arguments ask for, with the configuration overrides; a null problem with false means help was asked for.</summary>
    internal static bool TryParse(string[] args, out KeysRequest request, out List<string> configuration, out string? problem)
    {
        request = new KeysRequest("", null, [], null, null);
        configuration = [];
        problem = null;
        var positional = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return false;
            }

            var (name, value) = arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 0 ? (arg[..eq], (string?)arg[(eq + 1)..]) : (arg, null);
            if (name is "--name" or "--scopes" or "--expires-in" or "--requests-per-minute")
            {
                value ??= i + 1 < args.Length ? args[++i] : null;
                if (string.IsNullOrWhiteSpace(value))
                {
                    problem = $"{name} needs a value.";
                    return false;
                }

                switch (name)
                {
                    case "--name":
                        request = request with { Name = value };
                        break;
                    case "--scopes":
                        if (!ApiScopes.TryParse(value, out var scopes, out var unknown))
                        {
                            problem = $"--scopes takes a comma-separated list of predict, read, feedback, admin; '{unknown ?? value}' is not one.";
                            return false;
                        }

                        request = request with { Scopes = scopes };
                        break;
                    case "--expires-in":
                        if (Lifetime(value) is not { } lifetime)
                        {
                            problem = $"--expires-in takes a number and a unit (s, m, h or d), such as 30d or 12h, not '{value}'.";
                            return false;
                        }

                        request = request with { ExpiresIn = lifetime };
                        break;
                    default:
                        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var perMinute) || perMinute < 1)
                        {
                            problem = $"--requests-per-minute takes a whole number of at least 1, not '{value}'.";
                            return false;
                        }

                        request = request with { RequestsPerMinute = perMinute };
                        break;
                }
            }
            else if (name.StartsWith("--", StringComparison.Ordinal))
            {
                // Any other --Section:Key=value (or --Section:Key value) is configuration.
                configuration.Add(value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? $"{name}={args[++i]}" : arg);
            }
            else
            {
                positional.Add(arg);
            }
        }

        switch (positional)
        {
            case ["create"]:
                request = request with { Verb = "create" };
                if (request.Name is null || request.Scopes.Length == 0)
                {
                    problem = "keys create needs --name and --scopes.";
                    return false;
                }

                break;
            case ["list"]:
                request = request with { Verb = "list" };
                break;
            case ["revoke", var revoked]:
                request = request with { Verb = "revoke", Name = revoked };
                break;
            case ["revoke"]:
                problem = "keys revoke needs the name of the key to revoke, such as 'keys revoke ci'; 'keys list' shows the names.";
                return false;
            default:
                problem = positional.Count == 0 ? "Say what to do: create, list or revoke." : $"'{string.Join(' ', positional)}' is not a keys command.";
                return false;
        }

        if (request.Name is not null && !KeyName().IsMatch(request.Name))
        {
            // Names appear in logs, metric labels and created_by: short and plain.
            problem = $"A key name is 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit; '{request.Name}' is not.";
            return false;
        }

        return true;
    }

    private static TimeSpan? Lifetime(string text)
    {
        var match = LifetimeText().Match(text);
        if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count < 1)
        {
            return null;
        }

        return match.Groups[2].Value switch
        {
            "s" => TimeSpan.FromSeconds(count),
            "m" => TimeSpan.FromMinutes(count),
            "h" => TimeSpan.FromHours(count),
            _ => TimeSpan.FromDays(count),
        };
    }

    // \z, not $: $ also matches before a final newline, which let "ci\n" through as a name.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\z")]
    private static partial Regex KeyName();

    [GeneratedRegex(@"^([0-9]{1,6})([smhd])\z")]
    private static partial Regex LifetimeText();
}
