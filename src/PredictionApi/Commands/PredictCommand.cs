using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Inference;
using PredictionApi.Problems;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Commands;

/// <summary>
/// The command-line mode: <c>PredictionApi predict &lt;folder | s3://bucket/prefix&gt; [--model NAME]</c>.
/// Builds the same services as the web service (configuration, PostgreSQL or the private local cluster,
/// model, preprocessing, input store) without listening on HTTP, runs the model on every image, prints progress and a
/// summary. Exit code 0 when every image was predicted or skipped, 1 when any failed, 2 for a usage or
/// configuration error, 130 when interrupted.
/// </summary>
public static class PredictCommand
{
    public const int Ok = 0;
    public const int SomeFailed = 1;
    public const int UsageError = 2;
    public const int Interrupted = 130;

    // --version: the version of --model to run (a folder of a versioned model); default its pinned or highest one.
    private const string VersionKey = "Predict:Version";

    private const string Usage = """
        Usage: PredictionApi predict <folder | s3://bucket/prefix> [--model NAME] [--version V] [--models-dir DIR] [--Section:Key=value ...]

        Runs the model on every image (.png .jpg .jpeg .gif .bmp .webp) under a folder (recursively) or an S3 prefix with the
        model, and stores inputs and predictions in PostgreSQL exactly as POST /prediction does. Images whose bytes
        this model name and version already predicted are skipped, so a run can be repeated or resumed.
        The database, model and object storage come from the usual configuration (appsettings.json, environment
        variables such as ConnectionStrings__Predictions, or --Section:Key=value arguments); without a connection
        string the private local PostgreSQL cluster is used. S3 sources are read with the ObjectStorage settings.
        """;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        if (!TryParse(args, out var source, out var configuration, out var problem))
        {
            await error.WriteLineAsync(problem is null ? Usage : $"{problem}\n\n{Usage}");
            return problem is null ? Ok : UsageError;
        }

        // Quiet logs around the progress line; the hosted services (database start-up, schema, model warm-up) run.
        var builder = CommandHost.CreateBuilder(configuration);
        // Only the model this run uses is loaded (with the version asked for), not every model in the folder.
        var model = builder.Configuration["Model:Name"] ?? new ModelOptions().Name;
        var only = new Dictionary<string, string?> { ["Model:Serve:0"] = model, ["Model:PollSeconds"] = "0" };
        if (builder.Configuration[VersionKey] is { } version)
        {
            only[$"Model:Versions:{model}"] = version;
        }

        builder.Configuration.AddInMemoryCollection(only);
        // The same registrations as the web host, so the container validates the same way in Development.
        builder.AddPredictionPipeline();
        builder.Services.AddSingleton<PredictRunner>();

        WebApplication? built = null;
        try
        {
            built = builder.Build();
            await built.StartAsync(cancellationToken);
        }
        catch (Exception e)
        {
            if (built is not null)
            {
                // The private cluster may be running already; stop it if this run started or adopted it.
                await StartupFailures.StopAsync(built, error);
                await built.DisposeAsync();
            }

            if (e is not (OptionsValidationException or ModelConfigurationException or InvalidOperationException or AggregateException or NpgsqlException or IOException))
            {
                throw;
            }

            await error.WriteLineAsync($"predict: cannot start: {StartupFailures.Describe(e) ?? e.Message}");
            return UsageError;
        }

        var app = built;
        await using var _ = app;

        try
        {
            IImageSource images;
            if (S3Source.TryParse(source, out var bucket, out var prefix))
            {
                images = new S3Source(S3Clients.Create(app.Services.GetRequiredService<IOptions<ObjectStorageOptions>>().Value), bucket, prefix);
            }
            else if (Directory.Exists(source))
            {
                images = new FolderSource(source);
            }
            else
            {
                await error.WriteLineAsync($"predict: '{source}' is not a folder or an s3://bucket/prefix URL.");
                return UsageError;
            }

            // Ctrl+C stops the host; finish the chunk in hand and print what was done.
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, app.Lifetime.ApplicationStopping);
            var spec = app.Services.GetRequiredService<ModelRegistry>().SpecOf(null)!;
            await output.WriteLineAsync($"Predicting {images.Description} with {spec.Name} {spec.Version}");
            var interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;
            PredictSummary summary;
            try
            {
                var listed = await images.ListAsync(stop.Token);
                var progress = new PredictProgress(output, interactive, listed.Count);
                summary = await app.Services.GetRequiredService<PredictRunner>().RunAsync(images, listed, progress, stop.Token);
            }
            catch (Exception e) when (S3Clients.IsStoreFailure(e))
            {
                await error.WriteLineAsync($"predict: cannot list {images.Description}: {S3Clients.Describe(e)}");
                return UsageError;
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                await error.WriteLineAsync("predict: interrupted before any image was predicted.");
                return Interrupted;
            }

            await WriteSummaryAsync(output, summary, spec);
            if (stop.IsCancellationRequested)
            {
                await output.WriteLineAsync($"Interrupted after {summary.Predicted + summary.Skipped + summary.Failures.Count} of {summary.Total} images; run the same command again to continue.");
                return Interrupted;
            }

            return summary.Failures.Count > 0 ? SomeFailed : Ok;
        }
        finally
        {
            await app.StopAsync(CancellationToken.None);
        }
    }

    private static async Task WriteSummaryAsync(TextWriter output, PredictSummary s, ModelSpec spec)
    {
        var rate = s.Elapsed.TotalSeconds > 0 ? (s.Predicted + s.Skipped + s.Failures.Count) / s.Elapsed.TotalSeconds : 0;
        var elapsed = s.Elapsed.TotalMinutes < 1 ? $"{s.Elapsed.TotalSeconds:0.0} s" : PredictProgress.Format(s.Elapsed);
        await output.WriteLineAsync($"Done in {elapsed} ({rate:0.0} images/s): {s.Total} {(s.Total == 1 ? "image" : "images")}");
        await output.WriteLineAsync($"  predicted  {s.Predicted}");
        await output.WriteLineAsync($"  skipped   {s.Skipped} (already predicted by {spec.Name} {spec.Version}, same sha256)");
        await output.WriteLineAsync($"  failed    {s.Failures.Count}");
        foreach (var failure in s.Failures)
        {
            await output.WriteLineAsync($"    {failure.Name}: {failure.Reason}");
        }

        if (s.Ignored > 0)
        {
            await output.WriteLineAsync($"  ignored   {s.Ignored} {(s.Ignored == 1 ? "file" : "files")} without an image extension");
        }

        if (s.PerClass.Count > 0)
        {
            await output.WriteLineAsync("  per class (predicted in this run):");
            foreach (var (index, count) in s.PerClass)
            {
                var name = index < spec.Labels.Length ? spec.Labels[index] : index.ToString(System.Globalization.CultureInfo.InvariantCulture);
                await output.WriteLineAsync($"    {name,-12} {count}");
            }
        }
    }

    /// <summary>Splits the arguments into the source, configuration overrides, or a usage problem (null problem: help was asked for).</summary>
    internal static bool TryParse(string[] args, out string source, out List<string> configuration, out string? problem)
    {
        source = "";
        configuration = [];
        problem = null;
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg is "-h" or "--help")
            {
                return false;
            }

            var (name, value) = arg.StartsWith("--", StringComparison.Ordinal) && arg.IndexOf('=') is var eq and > 0
                ? (arg[..eq], (string?)arg[(eq + 1)..])
                : (arg, null);
            if (name is "--model" or "--models-dir" or "--version")
            {
                value ??= i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null;
                if (string.IsNullOrWhiteSpace(value))
                {
                    problem = $"{name} needs a value.";
                    return false;
                }

                configuration.Add($"--{(name == "--model" ? "Model:Name" : name == "--version" ? VersionKey : "Model:Directory")}={value}");
            }
            else if (name.StartsWith("--", StringComparison.Ordinal))
            {
                // Any other --Section:Key=value (or --Section:Key value) is configuration.
                configuration.Add(value is null && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? $"{name}={args[++i]}" : arg);
            }
            else if (source.Length == 0)
            {
                source = arg;
            }
            else
            {
                problem = $"Only one source can be classified per run; got '{source}' and '{arg}'.";
                return false;
            }
        }

        if (source.Length == 0)
        {
            problem = "Name the folder or s3://bucket/prefix to classify.";
            return false;
        }

        return true;
    }
}
