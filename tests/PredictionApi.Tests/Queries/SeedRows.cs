using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Queries;

/// <summary>A prediction row written straight into PostgreSQL, so a test controls every column the filters look at.</summary>
public sealed record SeedRow(string Model, int LikelyClass, float Confidence, DateTime CreatedAt, string? TrueLabel = null, int Classes = 10)
{
    public long Id { get; set; }

    /// <summary>
    /// A probability row consistent with the other columns: likely_class gets the confidence and the rest
    /// share what is left, each a little less than the one before so the order of labels is known.
    /// </summary>
    public float[] Probabilities()
    {
        var rest = Classes - 1;
        var weights = Enumerable.Range(0, rest).Select(k => (double)(rest - k)).ToArray();
        var share = (1 - Confidence) / weights.Sum();
        var p = new float[Classes];
        var next = 0;
        for (var c = 0; c < Classes; c++)
        {
            p[c] = c == LikelyClass ? Confidence : (float)(weights[next++] * share);
        }

        return p;
    }
}

public static class Seed
{
    /// <summary>The image every seeded input holds: a 1x1 gray PNG, as base64.</summary>
    public static string ImageBase64 { get; } = Convert.ToBase64String(TestImages.PngGray8(1, 1, [128]));

    /// <summary>Inserts the rows (input + prediction each) and records their ids.</summary>
    public static async Task InsertAsync(string connectionString, IEnumerable<SeedRow> rows)
    {
        const string sql = """
            WITH i AS (
                INSERT INTO inputs (filename, content_type, data, sha256, byte_size, width, height, created_at)
                VALUES ('seed.png', 'image/png', @ImageBase64, sha256(convert_to(@Model || @CreatedAt::text || random()::text, 'UTF8')), 1, 1, 1, @CreatedAt)
                RETURNING id)
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence, created_at, true_label, labeled_at)
            SELECT id, @Model, '1', @Probabilities::jsonb, @LikelyClass, @Confidence, @CreatedAt, @TrueLabel,
                   CASE WHEN @TrueLabel IS NULL THEN NULL ELSE @CreatedAt END
            FROM i
            RETURNING id
            """;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var row in rows)
        {
            row.Id = await connection.ExecuteScalarAsync<long>(sql, new
            {
                ImageBase64,
                row.Model,
                row.CreatedAt,
                Probabilities = JsonSerializer.Serialize(row.Probabilities()),
                row.LikelyClass,
                row.Confidence,
                row.TrueLabel,
            });
        }
    }

    /// <summary>A UTC instant, on whole seconds, that no other test uses: a random minute somewhere in 2001-2020.</summary>
    public static DateTime UniqueWindow() =>
        new DateTime(2001, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(Random.Shared.Next(0, 20 * 365 * 24 * 60) / 10 * 10);

    public static string Iso(DateTime time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>ISO 8601 to the tick, for windows that must not reach back into an earlier test's rows.</summary>
    public static string IsoPrecise(DateTime time) => time.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    public static string UniqueModel() => "m-" + Guid.NewGuid().ToString("N")[..12];
}
