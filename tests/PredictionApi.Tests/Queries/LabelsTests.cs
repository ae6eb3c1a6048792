using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace PredictionApi.Tests.Queries;

/// <summary>labels (top-k by name) on POST /prediction, GET /prediction/{id} and GET /predictions, with max_labels and min_confidence.</summary>
public sealed class LabelsTests(ServiceFixture service) : IClassFixture<ServiceFixture>
{
    private readonly HttpClient _client = service.Factory.CreateClient();

    private static readonly string[] MnistLabels = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

    private static (string Name, float Confidence)[] LabelsOf(JsonElement body) =>
        body.GetProperty("labels").EnumerateArray().Select(l => (l.GetProperty("name").GetString()!, l.GetProperty("confidence").GetSingle())).ToArray();

    /// <summary>The expected labels computed from the probabilities the response itself reports.</summary>
    private static (string Name, float Confidence)[] TopOf(JsonElement body, int max, float min = 0)
    {
        var p = body.GetProperty("prediction").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        return Enumerable.Range(0, p.Length)
            .Where(i => p[i] >= min)
            .OrderByDescending(i => p[i]).ThenBy(i => i)
            .Take(max)
            .Select(i => (MnistLabels[i], p[i]))
            .ToArray();
    }

    [Fact]
    public async Task APredictionCarriesItsFiveMostProbableLabelsByNameMostProbableFirst()
    {
        using var response = await _client.PostAsync("/prediction", TestImages.Form(Mnist.Png(0)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        var labels = LabelsOf(body);
        Assert.Equal(TopOf(body, 5), labels);
        Assert.Equal(labels.Select(l => l.Confidence).OrderByDescending(c => c), labels.Select(l => l.Confidence));
        // The first label is the original contract's likely_class and confidence.
        Assert.Equal(MnistLabels[body.GetProperty("likely_class").GetInt32()], labels[0].Name);
        Assert.Equal(body.GetProperty("confidence").GetSingle(), labels[0].Confidence);
        Assert.Equal(MnistLabels[Mnist.Labels[0]], labels[0].Name);
    }

    [Theory]
    [InlineData("max_labels=10", 10, 0f)]
    [InlineData("max_labels=1", 1, 0f)]
    [InlineData("max_labels=3&min_confidence=0", 3, 0f)]
    [InlineData("min_confidence=0.5", 5, 0.5f)]
    [InlineData("max_labels=10&min_confidence=0.000001", 10, 0.000001f)]
    [InlineData("min_confidence=1", 5, 1f)]
    public async Task MaxLabelsAndMinConfidenceChooseTheLabelsOnEveryEndpoint(string query, int max, float min)
    {
        using var posted = await _client.PostAsync("/prediction?" + query, TestImages.Form(Mnist.Png(7)));
        Assert.Equal(HttpStatusCode.OK, posted.StatusCode);
        var body = await posted.Content.ReadFromJsonAsync<JsonElement>();
        var expected = TopOf(body, max, min);
        Assert.Equal(expected, LabelsOf(body));

        var id = body.GetProperty("prediction_id").GetInt64();
        var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{id}?{query}");
        Assert.Equal(expected, LabelsOf(stored));

        // In the list, min_confidence also drops the rows whose best label is below it.
        var createdAt = body.GetProperty("created_at").GetDateTime();
        var page = await _client.GetFromJsonAsync<JsonElement>(
            $"/predictions?model=mnist&from={Seed.Iso(createdAt.AddSeconds(-1))}&{query}&limit=500");
        var item = page.GetProperty("items").EnumerateArray().SingleOrDefault(i => i.GetProperty("prediction_id").GetInt64() == id);
        if (body.GetProperty("confidence").GetSingle() >= min)
        {
            Assert.Equal(expected, LabelsOf(item));
        }
        else
        {
            Assert.Equal(JsonValueKind.Undefined, item.ValueKind);
        }
    }

    [Fact]
    public async Task DefaultLabelsOfAStoredPredictionMatchThoseOfTheUpload()
    {
        var body = await _client.PostPredictionAsync(Mnist.Png(3));
        var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{body.GetProperty("prediction_id").GetInt64()}");

        Assert.Equal(LabelsOf(body), LabelsOf(stored));
        Assert.Equal(5, LabelsOf(stored).Length);
    }

    [Fact]
    public async Task APredictionOfAnotherModelIsLabelledByClassIndex()
    {
        // Three classes, so the served model's ten labels do not describe it.
        var row = new SeedRow(Seed.UniqueModel(), 2, 0.6f, Seed.UniqueWindow(), Classes: 3);
        await Seed.InsertAsync(service.ConnectionString, [row]);

        var stored = await _client.GetFromJsonAsync<JsonElement>($"/prediction/{row.Id}");

        var p = row.Probabilities();
        Assert.Equal([("2", p[2]), ("0", p[0]), ("1", p[1])], LabelsOf(stored));
    }

    public static TheoryData<string, string> BadLabelQueries => new()
    {
        { "max_labels=0", "max_labels" },
        { "max_labels=11", "max_labels" },
        { "max_labels=-1", "max_labels" },
        { "max_labels=2.5", "max_labels" },
        { "max_labels=five", "max_labels" },
        { "max_labels=", "max_labels" },
        { "min_confidence=-0.1", "min_confidence" },
        { "min_confidence=1.01", "min_confidence" },
        { "min_confidence=NaN", "min_confidence" },
        { "min_confidence=Infinity", "min_confidence" },
        { "min_confidence=half", "min_confidence" },
        { "min_confidence=", "min_confidence" },
    };

    [Theory]
    [MemberData(nameof(BadLabelQueries))]
    public async Task BadLabelParametersAreBadRequestsAndStoreNothing(string query, string name)
    {
        var before = await CountPredictionsAsync();

        using var posted = await _client.PostAsync("/prediction?" + query, TestImages.Form(Mnist.Png(1)));
        await ProblemAssert.AssertProblemAsync(posted, HttpStatusCode.BadRequest, name);
        Assert.Equal(before, await CountPredictionsAsync());

        var existing = new SeedRow(Seed.UniqueModel(), 1, 0.9f, Seed.UniqueWindow());
        await Seed.InsertAsync(service.ConnectionString, [existing]);
        using var get = await _client.GetAsync($"/prediction/{existing.Id}?{query}");
        await ProblemAssert.AssertProblemAsync(get, HttpStatusCode.BadRequest, name);
        using var list = await _client.GetAsync("/predictions?" + query);
        await ProblemAssert.AssertProblemAsync(list, HttpStatusCode.BadRequest, name);
    }

    private async Task<long> CountPredictionsAsync()
    {
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        return await connection.ExecuteScalarAsync<long>("SELECT count(*) FROM predictions");
    }
}
