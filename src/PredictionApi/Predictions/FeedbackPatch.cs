using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using PredictionApi.Inference;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// What a PATCH /prediction/{id} changes, read from its JSON merge patch: a field is only written when the
/// body names it, and null clears it.
/// </summary>
public sealed record FeedbackPatch(bool SetLabel, string? TrueLabel, bool SetNote, string? Note)
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// Reads and checks the JSON body. The service knows the labels of the model it serves, so a true
    /// label is checked against those, also for a prediction an earlier version of the model made.
    /// </summary>
    public static async Task<(FeedbackPatch? Patch, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, string modelName, IReadOnlyList<string>? modelLabels, CancellationToken cancellationToken)
    {
        // Routing refuses other media types; a body without any content type arrives here.
        if (!request.HasJsonContentType())
        {
            return (null, ApiProblems.UnsupportedMediaType(RequestBodies.UnsupportedMediaTypeDetail(request.HttpContext)));
        }

        // Routing takes it for JSON (the +json suffix), but its array of operations is another format; say which one to send.
        if (request.ContentType?.StartsWith("application/json-patch+json", StringComparison.OrdinalIgnoreCase) == true)
        {
            return (null, ApiProblems.UnsupportedMediaType(
                $"JSON Patch (application/json-patch+json, a list of operations) is not taken here; send a JSON merge patch, the fields to change: {FeedbackApi.BodyExample}"));
        }

        if (RequestBodies.NonUtf8JsonDetail(request) is { } charset)
        {
            return (null, ApiProblems.UnsupportedMediaType(charset));
        }

        if (request.ContentLength > FeedbackApi.MaxBodyBytes)
        {
            return (null, ApiProblems.PayloadTooLarge($"The body is larger than {FeedbackApi.MaxBodyBytes} bytes; a true label and a note of at most {FeedbackApi.MaxNoteLength} characters are far smaller."));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[4096];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > FeedbackApi.MaxBodyBytes)
            {
                return (null, ApiProblems.PayloadTooLarge($"The body is larger than {FeedbackApi.MaxBodyBytes} bytes; a true label and a note of at most {FeedbackApi.MaxNoteLength} characters are far smaller."));
            }
        }

        if (buffer.Length == 0)
        {
            return (null, ApiProblems.BadRequest($"The body is empty. {FeedbackApi.BodyExample}", "Missing body"));
        }

        JsonDocument document;
        try
        {
            // A UTF-8 byte order mark, as Windows tools write it, is skipped (RFC 8259 §8.1 allows it), as the V2 reader does.
            var body = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
            document = JsonDocument.Parse(body.Span.StartsWith(Utf8Bom) ? body[Utf8Bom.Length..] : body);
        }
        catch (JsonException e)
        {
            return (null, ApiProblems.BadRequest($"The body is not valid JSON ({e.Message}). {FeedbackApi.BodyExample}", "Malformed JSON"));
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, ApiProblems.BadRequest($"The body is a JSON {document.RootElement.ValueKind.ToString().ToLowerInvariant()}, not an object. {FeedbackApi.BodyExample}"));
            }

            bool setLabel = false, setNote = false;
            string? trueLabel = null, note = null;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var isLabel = property.NameEquals("true_label");
                if (!isLabel && !property.NameEquals("note"))
                {
                    return (null, ApiProblems.BadRequest($"'{property.Name}' is not a field of feedback; the body may hold true_label and note. {FeedbackApi.BodyExample}"));
                }

                if (isLabel ? setLabel : setNote)
                {
                    return (null, ApiProblems.BadRequest($"'{property.Name}' appears more than once in the body."));
                }

                if (property.Value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                {
                    return (null, ApiProblems.BadRequest($"{property.Name} must be a string (or null to clear it), not a JSON {property.Value.ValueKind.ToString().ToLowerInvariant()}. {FeedbackApi.BodyExample}"));
                }

                string? value;
                try
                {
                    value = property.Value.GetString();
                }
                catch (InvalidOperationException)
                {
                    // An escaped lone surrogate is valid JSON but not text; so are bytes that are not UTF-8 (Latin-1, as Windows PowerShell 5 sends).
                    return (null, ApiProblems.BadRequest($"{property.Name} is not valid Unicode text: it holds an unpaired surrogate escape or bytes that are not UTF-8. Send the body encoded as UTF-8."));
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
                return (null, ApiProblems.BadRequest($"The body names neither true_label nor note, so there is nothing to record. {FeedbackApi.BodyExample}"));
            }

            // A prediction of a model not loaded since start has no known labels: any label is kept that the label= filter
            // can select again (an empty label or one with a tab was stored, and reached the input's other predictions too).
            if (trueLabel is not null && modelLabels is null && !QueryValues.IsText(trueLabel))
            {
                return (null, ApiProblems.BadRequest($"true_label must be 1 to {QueryValues.MaxNameLength} characters without control characters. " +
                    $"The model '{modelName}' is not loaded, so its labels are not known here and any such label is kept.", "Unknown label"));
            }

            if (trueLabel is not null && modelLabels is not null && !modelLabels.Contains(trueLabel, StringComparer.Ordinal))
            {
                return (null, ApiProblems.BadRequest($"'{trueLabel}' is not a label of the model '{modelName}'. {DescribeLabels(modelName, modelLabels)}", "Unknown label"));
            }

            // Characters as people count them: an emoji is one, not the two UTF-16 units it takes.
            var noteLength = note?.EnumerateRunes().Count() ?? 0;
            if (note is not null && (noteLength > FeedbackApi.MaxNoteLength || note.Contains('\0')))
            {
                return (null, ApiProblems.BadRequest(noteLength > FeedbackApi.MaxNoteLength
                    ? $"note is {noteLength} characters long; at most {FeedbackApi.MaxNoteLength} are kept."
                    : "note contains a NUL character, which cannot be stored."));
            }

            return (new FeedbackPatch(setLabel, trueLabel, setNote, note), null);
        }
    }

    private static string DescribeLabels(string modelName, IReadOnlyList<string> labels)
    {
        const int shown = 30;
        var list = string.Join(", ", labels.Take(shown).Select(l => $"'{l}'"));
        return labels.Count <= shown
            ? $"The valid labels are {list}."
            : $"The valid labels include {list} and {labels.Count - shown} more (GET /models/{modelName} lists them all).";
    }
}
