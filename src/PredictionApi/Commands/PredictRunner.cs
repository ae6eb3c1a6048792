using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Predictions;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Commands;

/// <summary>
/// Runs the model on every image of a source with the served model and stores inputs and predictions, a chunk of
/// images per transaction. Re-runs are cheap: an image whose bytes (sha256) were already predicted by
/// this model name and version is skipped after one index lookup; bytes stored before but predicted by
/// another model get a new prediction on the existing input instead of a second copy.
/// </summary>
public sealed class PredictRunner(NpgsqlDataSource dataSource, PredictionWriter recorder, ModelRegistry models, IOptions<UploadOptions> uploads)
{
    // The default model's serving version, held for the whole run so a reload cannot close it midway.
    private ImagePredictor _predictor = null!;

    private const int ChunkSize = 64;

    private sealed record Known(byte[] Sha256, long InputId, bool Predicted);

    private sealed class Work(SourceImage image, byte[] bytes, byte[] sha256)
    {
        public SourceImage Image => image;

        public byte[] Bytes => bytes;

        public byte[] Sha256 => sha256;

        public long? ExistingInput { get; set; }

        public ImagePrediction? Result { get; set; }

        public string? Failure { get; set; }
    }

    /// <summary>Labels <paramref name="images"/> (as listed by <paramref name="source"/>), reporting to <paramref name="progress"/>.</summary>
    public async Task<PredictSummary> RunAsync(IImageSource source, IReadOnlyList<SourceImage> images, PredictProgress progress, CancellationToken stopToken)
    {
        // A stop request ends the run between chunks: the chunk in hand is finished and counted.
        var cancellationToken = CancellationToken.None;
        using var lease = models.Acquire(null);
        _predictor = lease.Predictor;
        var spec = lease.Spec;
        var failures = new List<PredictFailure>();
        var perClass = new SortedDictionary<int, int>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        int predicted = 0, skipped = 0;
        foreach (var chunk in images.Chunk(ChunkSize))
        {
            if (stopToken.IsCancellationRequested)
            {
                break;
            }

            // Read and hash; unreadable files fail here.
            var work = new List<Work>(chunk.Length);
            foreach (var image in chunk)
            {
                try
                {
                    var bytes = await source.ReadAsync(image, uploads.Value.MaxBytes, cancellationToken);
                    work.Add(new Work(image, bytes, System.Security.Cryptography.SHA256.HashData(bytes)));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException || S3Clients.IsStoreFailure(e))
                {
                    failures.Add(new PredictFailure(image.Name, $"cannot be read: {S3Clients.Describe(e)}"));
                }
            }

            var known = await FindKnownAsync(work.Select(w => w.Sha256).ToArray(), spec.Name, spec.Version, cancellationToken);
            var todo = new List<Work>();
            foreach (var w in work)
            {
                var hex = Convert.ToHexString(w.Sha256);
                // The same bytes twice in one run are predicted once.
                if (!seen.Add(hex) || known.TryGetValue(hex, out var k) && k.Predicted)
                {
                    skipped++;
                    continue;
                }

                w.ExistingInput = known.TryGetValue(hex, out var existing) ? existing.InputId : null;
                todo.Add(w);
            }

            Parallel.ForEach(todo, new ParallelOptions { CancellationToken = cancellationToken }, w =>
            {
                try
                {
                    w.Result = _predictor.Predict(w.Bytes);
                }
                catch (ImageRejectedException e)
                {
                    w.Failure = $"{e.Title}: {e.Message}";
                }
            });

            var stored = await StoreAsync(todo.Where(w => w.Result is not null).ToList(), cancellationToken);
            foreach (var w in todo)
            {
                if (w.Failure is not null)
                {
                    failures.Add(new PredictFailure(w.Image.Name, w.Failure));
                }
                else if (stored.Contains(w))
                {
                    predicted++;
                    perClass[w.Result!.LikelyClass] = perClass.GetValueOrDefault(w.Result.LikelyClass) + 1;
                }
            }

            progress.Report(predicted, skipped, failures.Count);
        }

        progress.Report(predicted, skipped, failures.Count, final: true);
        // Folders that could not be listed are failures of the run, though no image of theirs was counted in the progress.
        failures.AddRange(source.Unlisted);
        return new PredictSummary(images.Count, predicted, skipped, source.Ignored, failures, perClass, progress.Elapsed);
    }

    /// <summary>
    /// Stores the predicted images of one chunk in one transaction. If that fails, each is retried in a
    /// transaction of its own, so one bad row costs only itself and its reason is reported.
    /// </summary>
    private async Task<HashSet<Work>> StoreAsync(List<Work> items, CancellationToken cancellationToken)
    {
        var stored = new HashSet<Work>();
        if (items.Count == 0)
        {
            return stored;
        }

        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            await StoreAsync(connection, items, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            stored.UnionWith(items);
            return stored;
        }
        catch (Exception e) when (IsStorageFailure(e) && !cancellationToken.IsCancellationRequested && items.Count > 1)
        {
            // Fall through to one transaction per image.
        }

        foreach (var w in items)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await StoreAsync(connection, [w], cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                stored.Add(w);
            }
            catch (Exception e) when (IsStorageFailure(e) && !cancellationToken.IsCancellationRequested)
            {
                w.Failure = $"not stored: {(e is InputStorageException s ? s.Message : e.Message)}";
            }
        }

        return stored;
    }

    /// <summary>New images go in with one statement, as the upload endpoints write; known bytes get a prediction on their stored input.</summary>
    private async Task StoreAsync(NpgsqlConnection connection, List<Work> items, CancellationToken cancellationToken)
    {
        foreach (var w in items.Where(w => w.ExistingInput is not null))
        {
            await PredictionWriter.RecordForInputAsync(connection, w.ExistingInput!.Value, NewPrediction.Of(w.Result!, _predictor.Spec), cancellationToken);
        }

        var fresh = items.Where(w => w.ExistingInput is null)
            .Select(w => (new RecordedUpload(StoredName(w.Image.Name), w.Bytes, w.Result!.Header), NewPrediction.Of(w.Result!, _predictor.Spec)))
            .ToList();
        if (fresh.Count > 0)
        {
            await recorder.RecordAsync(connection, fresh, cancellationToken);
        }
    }

    /// <summary>
    /// The filename stored for an image: its path below the source with each part cleaned as an
    /// upload's file name is (no control or bidi characters), and leading folders dropped while it is
    /// longer than an upload's name may be, so the file's own name and extension are always kept.
    /// </summary>
    internal static string StoredName(string name)
    {
        var parts = name.Split(['/', '\\'], StringSplitOptions.RemoveEmptyEntries).Select(FileNames.Clean).ToList();
        while (parts.Count > 1 && parts.Sum(p => p.Length + 1) - 1 > FileNames.MaxFileNameLength)
        {
            parts.RemoveAt(0);
        }

        return parts.Count == 0 ? FileNames.Clean(name) : string.Join('/', parts);
    }

    private static bool IsStorageFailure(Exception e) => e is NpgsqlException or InputStorageException or TimeoutException;

    /// <summary>For each hash already stored: an input with those bytes, preferring one this model has predicted.</summary>
    private async Task<Dictionary<string, Known>> FindKnownAsync(byte[][] hashes, string modelName, string modelVersion, CancellationToken cancellationToken)
    {
        if (hashes.Length == 0)
        {
            return [];
        }

        // inputs_sha256 finds the inputs, predictions_input_id their predictions: no scan however large the tables.
        const string sql = """
            SELECT DISTINCT ON (i.sha256) i.sha256 AS Sha256, i.id AS InputId,
                   EXISTS (SELECT 1 FROM predictions p
                           WHERE p.input_id = i.id AND p.model_name = @modelName AND p.model_version = @modelVersion) AS Predicted
            FROM inputs i
            WHERE i.sha256 = ANY(@hashes)
            ORDER BY i.sha256, Predicted DESC, i.id
            """;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var rows = await connection.QueryAsync<Known>(new CommandDefinition(sql, new { hashes, modelName, modelVersion }, cancellationToken: cancellationToken));
        return rows.ToDictionary(r => Convert.ToHexString(r.Sha256));
    }
}
