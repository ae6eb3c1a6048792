using System.Reflection;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Inference;
using PredictionApi.Storage;

namespace PredictionApi.Problems;

/// <summary>
/// Running the service as an operator expects: a start-up failure is one line on stderr that says what is
/// wrong and how to fix it, and exit code 1 (130 when interrupted), with whatever start-up had already
/// started stopped again, in particular the private PostgreSQL cluster.
/// </summary>
internal static class StartupFailures
{
    public const int Failed = 1;
    public const int Interrupted = 130;

    /// <summary>
    /// The host's own "Hosting failed to start" error, with the full stack trace, would repeat the line
    /// written here. Background services that fail later are still logged, at Critical, as they stop the host.
    /// </summary>
    public const string HostCategory = "Microsoft.Extensions.Hosting.Internal.Host";

    /// <summary>Starts the service and runs it until it is stopped; returns the process exit code.</summary>
    public static async Task<int> RunAsync(WebApplication app, TextWriter error)
    {
        await using var _ = app;
        try
        {
            await app.StartAsync();
        }
        catch (Exception e)
        {
            await StopAsync(app, error);
            if (Assembly.GetEntryAssembly() != typeof(StartupFailures).Assembly)
            {
                // Run inside another program (WebApplicationFactory in the tests): the failure is that program's to report.
                throw;
            }

            if (e is OperationCanceledException && app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                await error.WriteLineAsync("PredictionApi: start-up was interrupted.");
                return Interrupted;
            }

            // An unexpected failure is a bug: its stack trace is what its fix needs.
            await error.WriteLineAsync($"PredictionApi cannot start: {Describe(e) ?? e.ToString()}");
            return Failed;
        }

        await app.WaitForShutdownAsync();
        return 0;
    }

    /// <summary>
    /// Stops what a failed start had started: the host calls StopAsync on every hosted service, and the
    /// database start-up stops the private cluster when this process started or adopted it.
    /// </summary>
    public static async Task StopAsync(WebApplication app, TextWriter error)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(timeout.Token);
        }
        catch (ArgumentNullException e) when (e.ParamName == "source")
        {
            // The host failed before it made its list of hosted services (options are validated first), so it started
            // nothing; its StopAsync trips over the list it never made. Nothing to stop, nothing to say.
        }
        catch (Exception e)
        {
            // The start-up failure is the news; this is said too so a cluster left running is explained.
            await error.WriteLineAsync($"PredictionApi: stopping after the failed start failed too: {OneLine(e.Message)}");
        }
    }

    /// <summary>One line for a failure whose cause is in the configuration or the environment; null for anything else.</summary>
    public static string? Describe(Exception e) => e switch
    {
        ModelConfigurationException or OptionsValidationException or PostgresServerException => OneLine(e.Message),
        IOException { InnerException: AddressInUseException } =>
            $"{OneLine(e.Message).TrimEnd('.')}: another process is listening there. Stop it, or choose another address " +
            "with --urls (for example --urls http://127.0.0.1:8081) or ASPNETCORE_URLS.",
        NpgsqlException =>
            $"PostgreSQL did not answer or refused the schema: {OneLine(e.Message)}. Check ConnectionStrings:Predictions " +
            "(empty runs the private cluster) and that the server is up; Database:StartupTimeoutSeconds sets how long start-up waits.",
        AggregateException { InnerExceptions: [var only] } => Describe(only),
        _ => null,
    };

    // pg_ctl and option validation messages can span lines; a log line per failure keeps them greppable.
    private static string OneLine(string message) =>
        string.Join(" ", message.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
