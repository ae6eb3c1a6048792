using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Predictions;

namespace PredictionApi.Bench;

/// <summary>
/// Where the CPU time of one POST /prediction goes, stage by stage, with the service's own code on the
/// benchmark's PNGs: reading the multipart body, decoding and preprocessing, inference, hashing and
/// base64 for storage, the JSON answer, and the database's share of a grouped insert (one pair alone
/// and 64 pairs in one statement). One thread, after a warm-up; microseconds per upload.
/// </summary>
internal static class RequestStages
{
    public static async Task<int> RunAsync(string modelDir, string pngDir, string? connectionString)
    {
        var pngs = Directory.GetFiles(pngDir, "*.png").Order().Select(File.ReadAllBytes).ToArray();
        var options = new ModelOptions { Directory = Path.GetDirectoryName(Path.GetFullPath(modelDir))!, Name = Path.GetFileName(Path.GetFullPath(modelDir)) };
        using var classifier = ModelLoader.Load(options, NullLogger.Instance);
        var spec = classifier.Spec;
        var preprocessor = new ImagePreprocessor(Options.Create(new ImagingOptions()));
        var json = new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };
        var tensor = new float[spec.Input.TensorLength];
        var probabilities = new float[spec.Output.Classes];
        var bodies = pngs.Select(Multipart).ToArray();

        await ReportAsync("multipart body read", pngs.Length, async i =>
        {
            var context = new DefaultHttpContext();
            context.Request.ContentType = "multipart/form-data; boundary=bench";
            context.Request.Body = new MemoryStream(bodies[i]);
            await UploadReader.ReadAsync(context.Request, 1, 10 << 20, 10 << 20, CancellationToken.None);
        });
        await ReportAsync("decode + preprocess", pngs.Length, i => { preprocessor.Preprocess(pngs[i], spec.Input, tensor); return Task.CompletedTask; });
        await ReportAsync("inference", pngs.Length, _ => { classifier.Classify(tensor, probabilities); return Task.CompletedTask; });
        await ReportAsync("sha256 + base64", pngs.Length, i => { SHA256.HashData(pngs[i]); Convert.ToBase64String(pngs[i]); return Task.CompletedTask; });
        var answer = new PredictionResult("digit.png", "image/png", probabilities, 7, 0.98f, 1, 1, new ModelRef(spec.Name, spec.Version), DateTime.UtcNow, null)
        {
            Labels = TopLabels.Select(probabilities, spec.Labels, 5, 0),
        };
        await ReportAsync("top labels + JSON answer", pngs.Length, _ =>
        {
            JsonSerializer.SerializeToUtf8Bytes(answer with { Labels = TopLabels.Select(probabilities, spec.Labels, 5, 0) }, json);
            return Task.CompletedTask;
        });

        if (connectionString is not null)
        {
            await using var dataSource = NpgsqlDataSource.Create(connectionString);
            await using var connection = await dataSource.OpenConnectionAsync();
            var pairs = pngs.Select((png, i) => new PendingPair($"{i:00000}.png", "image/png", Convert.ToBase64String(png), SHA256.HashData(png), png.Length,
                28, 28, "database", null, new NewPrediction(spec.Name, spec.Version, probabilities, 7, 0.98f))).ToArray();
            await ReportAsync("database, 1 pair per statement", 500, i => PredictionWriter.InsertPairsAsync(connection, [pairs[i % pairs.Length]], CancellationToken.None));
            await ReportAsync("database, 64 pairs per statement", 20, async i =>
                await PredictionWriter.InsertPairsAsync(connection, pairs.Skip(i * 64 % (pairs.Length - 64)).Take(64).ToArray(), CancellationToken.None), perCall: 64);
        }

        return 0;
    }

    private static byte[] Multipart(byte[] png)
    {
        var head = Encoding.ASCII.GetBytes("--bench\r\nContent-Disposition: form-data; name=\"file\"; filename=\"digit.png\"\r\nContent-Type: image/png\r\n\r\n");
        var tail = Encoding.ASCII.GetBytes("\r\n--bench--\r\n");
        return [.. head, .. png, .. tail];
    }

    /// <summary>
    /// Runs <paramref name="stage"/> for a second to warm up, then over all inputs timed; prints µs per upload. A second, not
    /// a few calls: tiered compilation replaces a method's first code only after 30 calls and a background compile, and
    /// timing the first code made the managed stages look two to three times slower than the service runs them.
    /// </summary>
    private static async Task ReportAsync(string stage, int count, Func<int, Task> run, int perCall = 1)
    {
        var warming = Stopwatch.StartNew();
        for (var i = 0; i < 50 || (perCall == 1 && warming.Elapsed < TimeSpan.FromSeconds(1)); i++)
        {
            await run(i % count);
        }

        var stopwatch = Stopwatch.StartNew();
        for (var i = 0; i < count; i++)
        {
            await run(i);
        }

        Console.WriteLine($"{stage,-36} {stopwatch.Elapsed.TotalMicroseconds / (count * perCall),10:F1} us per upload");
    }
}
