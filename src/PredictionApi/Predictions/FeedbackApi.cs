using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>PATCH /prediction/{id}: record the true label of a prediction, and a note.</summary>
public static class FeedbackApi
{
    public const int MaxNoteLength = 1000;

    // A label and a note of at most 1,000 characters fit easily; anything far larger is not feedback.
    private const int MaxBodyBytes = 16 * 1024;

    internal const string BodyExample = """Send JSON such as {"true_label": "7", "note": "written with a thick pen"} with Content-Type: application/json.""";


    /// <summary>The body of PATCH /prediction/{id} (for the OpenAPI document; the handler reads it itself to tell absent from null).</summary>
    public sealed record FeedbackRequest
    {
        /// <summary>One of the served model's labels; null clears it.</summary>
        public string? TrueLabel { get; init; }

        /// <summary>Free text, at most 1000 characters; null clears it.</summary>
        public string? Note { get; init; }
    }

    /// <summary>What a PATCH changes: a field is only written when the body names it.</summary>
    internal sealed record Feedback(bool SetLabel, string? TrueLabel, bool SetNote, string? Note);

    public static async Task<Results<Ok<StoredPrediction>, ProblemHttpResult>> RecordFeedback(
        string id, HttpRequest request, [AsParameters] LabelQuery labelQuery, ImageClassifier classifier, PredictionReader store,
        InputImages images, NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        if (!PredictionIds.TryParse(id, out var predictionId, out var invalid))
        {
            return invalid;
        }

        var spec = classifier.Spec;
        if (labelQuery.TryResolve(spec.Output.Classes, out var labels) is { } badLabels)
        {
            return badLabels;
        }

        var (feedback, problem) = await ReadAsync(request, spec, cancellationToken);
        if (feedback is null)
        {
            return problem!;
        }

        // labeled_at follows true_label: set when a label is recorded, cleared with it.
        const string sql = """
            UPDATE predictions
            SET true_label = CASE WHEN @SetLabel THEN @TrueLabel ELSE true_label END,
                labeled_at = CASE WHEN NOT @SetLabel THEN labeled_at WHEN @TrueLabel IS NULL THEN NULL ELSE now() END,
                note = CASE WHEN @SetNote THEN @Note ELSE note END
            WHERE id = @predictionId
            """;
        int updated;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            updated = await connection.ExecuteAsync(new CommandDefinition(sql, new
            {
                feedback.SetLabel,
                feedback.TrueLabel,
                feedback.SetNote,
                feedback.Note,
                predictionId,
            }, cancellationToken: cancellationToken));
        }

        var row = updated == 0 ? null : await store.GetAsync(predictionId, cancellationToken);
        return row is null
            ? PredictionIds.NotFound(id)
            : TypedResults.Ok(await images.WithImageAsync(row, spec, labels, cancellationToken));
    }

    /// <summary>
    /// Reads and checks the JSON body. The service knows the labels of the model it serves, so a true
    /// label is checked against those, also for a prediction an earlier version of the model made.
    /// </summary>
    internal static async Task<(Feedback? Feedback, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, ModelSpec spec, CancellationToken cancellationToken)
    {
        // Routing refuses other media types; a body without any content type arrives here.
        if (!request.HasJsonContentType())
        {
            return (null, ApiProblems.UnsupportedMediaType(RequestBodies.UnsupportedMediaTypeDetail(request.HttpContext)));
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, ApiProblems.PayloadTooLarge($"The body is larger than {MaxBodyBytes} bytes; a true label and a note of at most {MaxNoteLength} characters are far smaller."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > MaxBodyBytes)
            {
                return (null, ApiProblems.PayloadTooLarge($"The body is larger than {MaxBodyBytes} bytes; a true label and a note of at most {MaxNoteLength} characters are far smaller."));
            }
        }

        if (buffer.Length == 0)
        {
            return (null, ApiProblems.BadRequest($"The body is empty. {BodyExample}", "Missing body"));
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.BadRequest($"The body is not valid JSON ({e.Message}). {BodyExample}", "Malformed JSON"));
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiProblems.BadRequest($"The body is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object. {BodyExample}"));
            }

            bool setLabel = false, setNote = false;
            string? trueLabel = null, note = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var isLabel = property.NameEquals("true_label");
                if (!isLabel && !property.NameEquals("note"))
                {
                    return (null, ApiProblems.BadRequest($"'{property.Name}' is not a field of feedback; the body may hold true_label and note. {BodyExample}"));
                }

                if (isLabel ? setLabel : setNote)
                {
                    return (null, ApiProblems.BadRequest($"'{property.Name}' appears more than once in the body."));
                }

                if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    return (null, ApiProblems.BadRequest($"{property.Name} must be a string (or null to clear it), not a JSON {property.Value.ValueKind.ToString().ToLowerInvariant()}. {BodyExample}"));
                }

                string? value;
                try
                {
                    value = property.Value.GetString();
                }
                catch (InvalidOperationException)
                {
                    // An escaped lone surrogate is valid JSON but not text.
                    return (null, ApiProblems.BadRequest($"{property.Name} is not valid Unicode text."));
                }

                if (isLabel)
                {
                    (setLabel, trueLabel) = (true, value);
                }
                else
                {
                    (setNote, note) = (true, string.IsNullOrWhiteSpace(value) ? null : value);
                }
            }

            if (!setLabel && !setNote)
            {
                return (null, ApiProblems.BadRequest($"The body names neither true_label nor note, so there is nothing to record. {BodyExample}"));
            }

            if (trueLabel is not null && !spec.Labels.Contains(trueLabel, StringComparer.Ordinal))
            {
                return (null, ApiProblems.BadRequest($"'{trueLabel}' is not a label of the model '{spec.Name}'. {DescribeLabels(spec)}", "Unknown label"));
            }

            if (note is not null && (note.Length > MaxNoteLength || note.Contains('\0')))
            {
                return (null, ApiProblems.BadRequest(note.Length > MaxNoteLength
                    ? $"note is {note.Length} characters long; at most {MaxNoteLength} are kept."
                    : "note contains a NUL character, which cannot be stored."));
            }

            return (new Feedback(setLabel, trueLabel, setNote, note), null);
        }
    }

    private static string DescribeLabels(ModelSpec spec)
    {
        const int shown = 30;
        var list = string.Join(", ", spec.Labels.Take(shown).Select(l => $"'{l}'"));
        return spec.Labels.Length <= shown
            ? $"The valid labels are {list}."
            : $"The valid labels include {list} and {spec.Labels.Length - shown} more (GET /models/{spec.Name} lists them all).";
    }
}
