using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;
using PredictionApi.Tests.Queries;

namespace PredictionApi.Tests.Feedback;

/// <summary>PATCH /prediction/{id}: true labels and notes, validated against the served model's labels.</summary>
public sealed class FeedbackTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private sealed record Row(string? TrueLabel, string? Note, DateTime? LabeledAt);

    private async Task<long> PostAsync(int mnistIndex = 0) =>
        (await _client.PostPredictionAsync(Mnist.Png(mnistIndex))).GetProperty("prediction_id").GetInt64();

    private Task<HttpResponseMessage> PatchAsync(long id, string json, string contentType = "application/json") =>
        _client.PatchAsync($"/prediction/{id}", new StringContent(json, Encoding.UTF8, contentType));

    private async Task<Row> ReadRowAsync(long id)
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        return await connection.QuerySingleAsync<Row>("SELECT true_label AS TrueLabel, note AS Note, labeled_at AS LabeledAt FROM predictions WHERE id = @id", new { id });
    }

    [Fact]
    public async Task PatchRecordsTheTrueLabelAndNoteAndReturnsTheStoredPrediction()
    {
        var id = await PostAsync();
        var before = DateTime.UtcNow.AddSeconds(-5);

        using var response = await PatchAsync(id, """{"true_label": "7", "note": "the crossbar is faint"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(id, body.GetProperty("prediction_id").GetInt64());
        Assert.Equal("7", body.GetProperty("true_label").GetString());
        Assert.Equal("the crossbar is faint", body.GetProperty("note").GetString());
        Assert.InRange(body.GetProperty("labeled_at").GetDateTime(), before, DateTime.UtcNow.AddSeconds(5));
        Assert.Equal(5, body.GetProperty("labels").GetArrayLength());
        Assert.StartsWith("data:image/png;base64,", body.GetProperty("image").GetString());

        // Committed: the row and a later GET say the same.
        var row = await ReadRowAsync(id);
        Assert.Equal(("7", "the crossbar is faint"), (row.TrueLabel, row.Note));
        Assert.Equal(body.GetProperty("labeled_at").GetDateTime(), row.LabeledAt);
        var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("7", stored.GetProperty("true_label").GetString());
        Assert.Equal("the crossbar is faint", stored.GetProperty("note").GetString());
    }

    [Fact]
    public async Task AFieldLeftOutIsKeptAndNullClearsIt()
    {
        var id = await PostAsync(1);
        (await PatchAsync(id, """{"true_label": "2", "note": "first"}""")).EnsureSuccessStatusCode();

        (await PatchAsync(id, """{"note": "second"}""")).EnsureSuccessStatusCode();
        var row = await ReadRowAsync(id);
        Assert.Equal(("2", "second"), (row.TrueLabel, row.Note));
        Assert.NotNull(row.LabeledAt);

        (await PatchAsync(id, """{"true_label": null}""", "application/merge-patch+json")).EnsureSuccessStatusCode();
        row = await ReadRowAsync(id);
        Assert.Equal((null, "second", null), (row.TrueLabel, row.Note, row.LabeledAt));

        (await PatchAsync(id, """{"true_label": "3", "note": null}""")).EnsureSuccessStatusCode();
        row = await ReadRowAsync(id);
        Assert.Equal(("3", null), (row.TrueLabel, row.Note));

        // An empty note is no note.
        using var blank = await PatchAsync(id, """{"note": "  "}""");
        Assert.Equal(JsonValueKind.Null, (await blank.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("note").ValueKind);
    }

    [Fact]
    public async Task AnUnknownLabelIsRefusedWithTheValidLabelsAndChangesNothing()
    {
        var id = await PostAsync(2);
        (await PatchAsync(id, """{"true_label": "4"}""")).EnsureSuccessStatusCode();

        foreach (var label in new[] { "10", "seven", " 7", "", "7.0" })
        {
            using var response = await PatchAsync(id, JsonSerializer.Serialize(new { true_label = label, note = "ignored" }));
            var problem = await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, "not a label");
            Assert.Contains("'0', '1', '2', '3', '4', '5', '6', '7', '8', '9'", problem.GetProperty("detail").GetString());
        }

        Assert.Equal(("4", null), ((await ReadRowAsync(id)).TrueLabel, (await ReadRowAsync(id)).Note));
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "", "empty" },
        { "not json", "not valid JSON" },
        { """{"true_label": "7" """, "not valid JSON" },
        { "[]", "not an object" },
        { "\"7\"", "not an object" },
        { "{}", "neither" },
        { """{"true_label": 7}""", "must be a string" },
        { """{"true_label": ["7"]}""", "must be a string" },
        { """{"label": "7"}""", "'label' is not a field" },
        { """{"true_label": "7", "true_label": "8"}""", "more than once" },
        { $$"""{"note": "{{new string('x', 1001)}}"}""", "1001 characters" },
        { $$"""{"note": "{{string.Concat(Enumerable.Repeat("\ud83d\ude00", 1001))}}"}""", "1001 characters" },
        { """{"note": "a\u0000b"}""", "NUL" },
        { """{"note": "\ud800"}""", "not valid Unicode" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task MalformedBodiesAreBadRequestsAndChangeNothing(string json, string detail)
    {
        var id = await PostAsync(3);
        (await PatchAsync(id, """{"true_label": "5", "note": "kept"}""")).EnsureSuccessStatusCode();
        var before = await ReadRowAsync(id);

        using var response = await PatchAsync(id, json);

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.BadRequest, detail);
        Assert.Equal(before, await ReadRowAsync(id));
    }

    [Fact]
    public async Task ANoteOfExactlyTheLimitIsKept()
    {
        var id = await PostAsync(4);
        var note = string.Concat(Enumerable.Repeat("é", 1000));

        (await PatchAsync(id, JsonSerializer.Serialize(new { note }))).EnsureSuccessStatusCode();

        Assert.Equal(note, (await ReadRowAsync(id)).Note);
        // Characters, not UTF-16 units: a thousand emoji are a thousand characters.
        var emoji = string.Concat(Enumerable.Repeat("\U0001F600", 1000));
        (await PatchAsync(id, JsonSerializer.Serialize(new { note = emoji }))).EnsureSuccessStatusCode();
        Assert.Equal(emoji, (await ReadRowAsync(id)).Note);
    }

    [Fact]
    public async Task OnlyJsonBodiesAreAccepted()
    {
        var id = await PostAsync(5);

        using var text = await PatchAsync(id, """{"true_label": "7"}""", "text/plain");
        await ProblemAssert.AssertProblemAsync(text, HttpStatusCode.UnsupportedMediaType, "application/json");
        using var form = await _client.PatchAsync($"/prediction/{id}", new FormUrlEncodedContent([new("true_label", "7")]));
        await ProblemAssert.AssertProblemAsync(form, HttpStatusCode.UnsupportedMediaType, "application/json");
        using var untyped = await _client.PatchAsync($"/prediction/{id}", new ByteArrayContent("""{"true_label": "7"}"""u8.ToArray()));
        await ProblemAssert.AssertProblemAsync(untyped, HttpStatusCode.UnsupportedMediaType, "application/json");
        Assert.Null((await ReadRowAsync(id)).TrueLabel);
    }

    [Fact]
    public async Task AWrongMediaTypeIsAnsweredWithWhatThisEndpointTakesNotHowToUploadImages()
    {
        var id = await PostAsync(5);

        foreach (var contentType in new[] { "text/plain", "multipart/form-data" })
        {
            using var response = await PatchAsync(id, """{"true_label": "7"}""", contentType);
            var detail = (await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.UnsupportedMediaType, $"PATCH /prediction/{id}"))
                .GetProperty("detail").GetString()!;
            Assert.Contains("application/json or application/merge-patch+json", detail);
            Assert.Contains(contentType, detail);
            Assert.Contains("\"true_label\": \"7\"", detail);
            Assert.DoesNotContain("'file'", detail);
        }

        Assert.Null((await ReadRowAsync(id)).TrueLabel);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheJsonBodyWithOptionalFields()
    {
        var document = await _client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var body = document.GetProperty("paths").GetProperty("/prediction/{id}").GetProperty("patch").GetProperty("requestBody");

        var content = body.GetProperty("content");
        Assert.Equal(["application/json", "application/merge-patch+json"], content.EnumerateObject().Select(c => c.Name));
        var reference = content.GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString()!;
        var schema = document.GetProperty("components").GetProperty("schemas").GetProperty(reference.Split('/')[^1]);
        Assert.Equal(["true_label", "note"], schema.GetProperty("properties").EnumerateObject().Select(p => p.Name));
        // Merge-patch: any field may be left out.
        Assert.False(schema.TryGetProperty("required", out var required) && required.GetArrayLength() > 0);
    }

    [Fact]
    public async Task AnOversizedBodyIsRefused()
    {
        var id = await PostAsync(6);

        using var response = await PatchAsync(id, $$"""{"note": "{{new string('x', 20_000)}}"}""");

        await ProblemAssert.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "bytes");
        Assert.Null((await ReadRowAsync(id)).Note);
    }

    [Theory]
    [InlineData("999999999", HttpStatusCode.NotFound)]
    [InlineData("abc", HttpStatusCode.BadRequest)]
    [InlineData("-1", HttpStatusCode.BadRequest)]
    [InlineData("0", HttpStatusCode.BadRequest)]
    [InlineData("99999999999999999999", HttpStatusCode.BadRequest)]
    public async Task UnknownAndMalformedIdsAreRefused(string id, HttpStatusCode status)
    {
        using var response = await _client.PatchAsync($"/prediction/{id}", new StringContent("""{"true_label": "1"}""", Encoding.UTF8, "application/json"));
        await ProblemAssert.AssertProblemAsync(response, status, id);
    }

    [Fact]
    public async Task RecordedLabelsFeedTheLabelFilterAndTheStats()
    {
        var start = DateTime.UtcNow;
        var ids = new List<long>();
        foreach (var index in new[] { 0, 1, 2, 3 })
        {
            ids.Add(await PostAsync(index));
        }

        var label = "8";
        (await PatchAsync(ids[1], $$"""{"true_label": "{{label}}"}""")).EnsureSuccessStatusCode();
        (await PatchAsync(ids[3], $$"""{"true_label": "{{label}}"}""")).EnsureSuccessStatusCode();

        var window = $"from={Seed.IsoPrecise(start)}&to={Seed.IsoPrecise(DateTime.UtcNow.AddSeconds(2))}";
        var page = await _client.GetFromJsonAsync<JsonElement>($"/predictions?model=mnist&label={label}&{window}");
        Assert.Equal([ids[3], ids[1]], page.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("prediction_id").GetInt64()));

        var feedback = (await _client.GetFromJsonAsync<JsonElement>($"/predictions/stats?{window}")).GetProperty("feedback");
        Assert.Equal(2, feedback.GetProperty("labeled").GetInt64());
        var matrix = feedback.GetProperty("confusion_matrix");
        var row = matrix.GetProperty("counts")[8].EnumerateArray().Select(c => c.GetInt64()).ToArray();
        Assert.Equal(2, row.Sum());
    }
}
