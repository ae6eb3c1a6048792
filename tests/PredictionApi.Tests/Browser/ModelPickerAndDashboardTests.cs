using System.Net;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Dapper;
using Microsoft.Playwright;
using Npgsql;
using PredictionApi.Tests.Queries;
using static Microsoft.Playwright.Assertions;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// The page on a service that serves several models: the picker decides which model answers and what the input
/// panel offers, and the dashboard draws what the statistics, series and comparison endpoints say.
/// </summary>
public sealed class ModelPickerAndDashboardTests(BrowserFixture browser, ManyModelsServiceFixture service)
    : IClassFixture<BrowserFixture>, IClassFixture<ManyModelsServiceFixture>
{
    private const int Desktop = 1280;

    [BrowserFact]
    public async Task ThePickerListsEveryModelAndTheChosenOneAnswersWithItsOwnLabelsAndInput()
    {
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;
        var models = (await service.Client.GetFromJsonAsync<JsonElement>("/models")).EnumerateArray().ToList();

        // One option per served model; the one that failed to load cannot be chosen and says why on hover.
        await Expect(page.Locator("#model option")).ToHaveCountAsync(models.Count);
        var broken = models.Single(m => m.GetProperty("name").GetString() == "broken");
        var brokenOption = page.Locator("#model option[value='broken']");
        await Expect(brokenOption).ToBeDisabledAsync();
        await Expect(brokenOption).ToHaveAttributeAsync("title", broken.GetProperty("reason").GetString()!);
        await Expect(page.Locator("#model option[value='colours']")).ToBeEnabledAsync();
        await Expect(page.Locator("#model")).ToHaveValueAsync("mnist");
        await Expect(page.Locator("#pad")).ToBeVisibleAsync();

        // A colour model: no drawing pad, its own class names, the gallery on its predictions.
        await page.Locator("#model").SelectOptionAsync("colours");
        await Expect(page.Locator("#pad")).ToBeHiddenAsync();
        await Expect(page.Locator("#input-heading")).ToHaveTextAsync("Your image");
        await Expect(page.Locator("#filter option")).ToHaveTextAsync(["All classes", .. ManyModelsServiceFixture.ColourLabels]);
        await Expect(page.Locator("#gallery-model")).ToHaveValueAsync("colours");

        // A 4x4 swatch running from green to red, with some blue.
        var rgb = Enumerable.Range(0, 16).SelectMany(p => new[] { (byte)(p * 16), (byte)(255 - p * 16), (byte)(p % 4 * 60) }).ToArray();
        var response = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#file").SetInputFilesAsync(new FilePayload { Name = "swatch.png", MimeType = "image/png", Buffer = TestImages.PngRgb(4, 4, rgb) }),
            PageTests.IsPredictionPost);
        Assert.Equal(200, response.Status);
        Assert.Contains("model=colours", response.Url);
        using var body = JsonDocument.Parse(await response.BodyAsync());
        var id = body.RootElement.GetProperty("prediction_id").GetInt64();
        var likely = body.RootElement.GetProperty("likely_class").GetInt32();
        Assert.Equal("colours", body.RootElement.GetProperty("model").GetProperty("name").GetString());
        await Expect(page.Locator("#result-class")).ToHaveTextAsync(ManyModelsServiceFixture.ColourLabels[likely]);
        await Expect(page.Locator("#bars li")).ToHaveCountAsync(3);
        await Expect(page.Locator("#preview")).ToBeVisibleAsync();
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal("colours", stored.GetProperty("model").GetProperty("name").GetString());

        // The gallery shows the new card with the colour name, and only the colour model's predictions.
        var card = page.Locator($"#gallery button[data-id='{id}']");
        await Expect(card).ToBeVisibleAsync();
        await Expect(card).ToHaveAttributeAsync("data-model", "colours");
        await Expect(card.Locator(".card-class")).ToHaveTextAsync(ManyModelsServiceFixture.ColourLabels[likely]);
        var shownModels = await page.Locator("#gallery button[data-id]").EvaluateAllAsync<string[]>("cards => cards.map(card => card.dataset.model)");
        Assert.All(shownModels, model => Assert.Equal("colours", model));
        await session.ScreenshotAsync("picker-colour-model.png");

        // A digit model known only by its 28x28 grey input gets the pad back.
        await page.Locator("#model").SelectOptionAsync("digits");
        await Expect(page.Locator("#pad")).ToBeVisibleAsync();
        await Expect(page.Locator("#input-heading")).ToHaveTextAsync("Your digit");
        await Expect(page.Locator("#preview")).ToBeHiddenAsync();

        // Back on mnist, a drawing goes to mnist.
        await page.Locator("#model").SelectOptionAsync("mnist");
        await PageTests.DrawSevenAsync(page);
        var drawn = await page.RunAndWaitForResponseAsync(() => page.Locator("#predict").ClickAsync(), PageTests.IsPredictionPost);
        Assert.Equal(200, drawn.Status);
        Assert.Contains("model=mnist", drawn.Url);
        using var drawnBody = JsonDocument.Parse(await drawn.BodyAsync());
        var drawnId = drawnBody.RootElement.GetProperty("prediction_id").GetInt64();
        Assert.Equal("mnist", drawnBody.RootElement.GetProperty("model").GetProperty("name").GetString());
        await Expect(page.Locator($"#gallery button[data-id='{drawnId}']")).ToHaveAttributeAsync("data-model", "mnist");
        await Expect(page.Locator($"#gallery button[data-id='{id}']")).ToHaveCountAsync(0);

        // All models: both predictions, each card with its own model.
        await page.RunAndWaitForResponseAsync(
            () => page.Locator("#gallery-model").SelectOptionAsync(""),
            r => r.Url.Contains("/predictions?") && !r.Url.Contains("model="));
        await Expect(page.Locator($"#gallery button[data-id='{id}']")).ToHaveAttributeAsync("data-model", "colours");
        await Expect(page.Locator($"#gallery button[data-id='{drawnId}']")).ToHaveAttributeAsync("data-model", "mnist");

        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task TheDashboardDrawsTheSeriesHistogramAndConfusionMatrixTheApiReports()
    {
        var seeded = await SeedTwoModelsAsync(first: 0);
        await using var session = await OpenAsync(Desktop, 1000);
        var page = session.Page;

        // Opening the dashboard loads the chosen model's series and statistics; the charts must draw exactly those.
        var seriesResponse = page.WaitForResponseAsync(r => r.Url.Contains("/predictions/stats/series?") && r.Url.Contains("model=mnist"));
        var statsResponse = page.WaitForResponseAsync(r => r.Url.Contains("/predictions/stats?") && r.Url.Contains("model=mnist"));
        await page.Locator("#tab-dashboard").ClickAsync();
        await Expect(page.Locator("#view-dashboard")).ToBeVisibleAsync();
        await Expect(page.Locator("#view-try")).ToBeHiddenAsync();
        using var series = JsonDocument.Parse(await (await seriesResponse).BodyAsync());
        using var stats = JsonDocument.Parse(await (await statsResponse).BodyAsync());

        // Stacked bars: one group per hour of the range, one segment per class that has predictions in it.
        var buckets = series.RootElement.GetProperty("buckets").EnumerateArray().ToList();
        Assert.Equal(24, buckets.Count);
        Assert.True(series.RootElement.GetProperty("total").GetInt64() >= seeded.Count, "the seeded predictions are in the last hour");
        var groups = page.Locator("#series-chart g.series-bucket");
        await Expect(groups).ToHaveCountAsync(buckets.Count);
        var drawn = await groups.EvaluateAllAsync<JsonElement>(
            "groups => groups.map(g => ({ start: g.dataset.start, total: Number(g.dataset.total), " +
            "segments: [...g.querySelectorAll('rect')].map(r => [Number(r.dataset.class), Number(r.dataset.count)]) }))");
        for (var i = 0; i < buckets.Count; i++)
        {
            Assert.Equal(buckets[i].GetProperty("start").GetString(), drawn[i].GetProperty("start").GetString());
            Assert.Equal(buckets[i].GetProperty("total").GetInt64(), drawn[i].GetProperty("total").GetInt64());
            var expected = buckets[i].GetProperty("counts").EnumerateArray().Select((c, k) => (Class: k, Count: c.GetInt64())).Where(c => c.Count > 0).ToList();
            var segments = drawn[i].GetProperty("segments").EnumerateArray().Select(s => (Class: s[0].GetInt32(), Count: s[1].GetInt64())).ToList();
            Assert.Equal(expected, segments);
        }

        var classesWithPredictions = Enumerable.Range(0, 10).Count(k => buckets.Any(b => b.GetProperty("counts")[k].GetInt64() > 0));
        await Expect(page.Locator("#series-legend li")).ToHaveCountAsync(classesWithPredictions);

        // The confidence histogram: ten bars, as many predictions in each as the statistics say.
        var bins = stats.RootElement.GetProperty("confidence_histogram").EnumerateArray().Select(b => b.GetProperty("count").GetInt64()).ToArray();
        var bars = await page.Locator("#histogram-chart rect.hist-bar").EvaluateAllAsync<long[]>("bars => bars.map(bar => Number(bar.dataset.count))");
        Assert.Equal(bins, bars);
        Assert.Equal(stats.RootElement.GetProperty("total").GetInt64(), bars.Sum());

        // The confusion matrix: one cell per (true label, predicted class), each with its count; the seeded labels are in it.
        var feedback = stats.RootElement.GetProperty("feedback");
        var matrix = feedback.GetProperty("confusion_matrix");
        var axis = matrix.GetProperty("labels").EnumerateArray().Select(l => l.GetString()!).ToList();
        var cells = await page.Locator("#confusion-chart rect[data-true]").EvaluateAllAsync<JsonElement>(
            "cells => cells.map(c => [c.dataset.true, c.dataset.predicted, Number(c.dataset.count)])");
        Assert.Equal(axis.Count * axis.Count, cells.GetArrayLength());
        var counts = matrix.GetProperty("counts");
        foreach (var cell in cells.EnumerateArray())
        {
            var (truth, predicted) = (axis.IndexOf(cell[0].GetString()!), axis.IndexOf(cell[1].GetString()!));
            Assert.Equal(counts[truth][predicted].GetInt64(), cell[2].GetInt64());
        }

        var labeled = seeded.Count(s => s.TrueLabel is not null);
        Assert.True(feedback.GetProperty("labeled").GetInt64() >= labeled);
        var labelledCells = cells.EnumerateArray().Sum(c => c[2].GetInt64());
        Assert.Equal(feedback.GetProperty("labeled").GetInt64(), labelledCells);
        await Expect(page.Locator("#confusion-summary")).ToContainTextAsync($"{feedback.GetProperty("labeled").GetInt64()} predictions with a true label");
        await Expect(page.Locator("#confusion-message")).ToBeEmptyAsync();
        await session.ScreenshotAsync("dashboard.png", fullPage: true);

        // On a phone the charts shrink to the screen instead of making the page scroll sideways.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= 390"), "the dashboard must not scroll sideways on a phone");
        await session.ScreenshotAsync("phone-dashboard.png", fullPage: true);
        await page.SetViewportSizeAsync(Desktop, 1000);

        // A model without true labels says so instead of drawing an empty matrix.
        await page.Locator("#model").SelectOptionAsync("colours");
        await Expect(page.Locator("#dash-model")).ToHaveTextAsync("colours");
        await Expect(page.Locator("#confusion-message")).ToContainTextAsync("No true labels recorded yet");
        await Expect(page.Locator("#confusion-chart rect")).ToHaveCountAsync(0);

        session.AssertHealthy();
    }

    /// <summary>Needs GET /models/compare (the comparison branch); until it is merged this test fails on the first assertion.</summary>
    [BrowserFact]
    public async Task TheDashboardComparesTwoModelsAndShowsTheInputsWhereTheyDisagree()
    {
        var seeded = await SeedTwoModelsAsync(first: 40);
        using (var probe = await service.Client.GetAsync("/models/compare?baseline=mnist&candidate=digits"))
        {
            Assert.True(probe.StatusCode == HttpStatusCode.OK,
                $"GET /models/compare answered {(int)probe.StatusCode}: this test needs the comparison endpoint (src/PredictionApi/Comparison) merged.");
        }

        // A day of earlier mnist predictions, so the charts in the screenshot have a shape.
        var random = new Random(12);
        var now = DateTime.UtcNow;
        await Seed.InsertAsync(service.ConnectionString, Enumerable.Range(0, 80).Select(_ =>
            new SeedRow("mnist", random.Next(10), 0.35f + (float)random.NextDouble() * 0.65f, now.AddMinutes(-random.Next(60, 23 * 60)))));

        await using var session = await OpenAsync(Desktop, 1000, "/#dashboard");
        var page = session.Page;
        await Expect(page.Locator("#view-dashboard")).ToBeVisibleAsync();
        await Expect(page.Locator("#baseline")).ToHaveValueAsync("mnist");
        var compared = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#candidate").SelectOptionAsync("digits"),
            r => r.Url.Contains("/models/compare?") && r.Url.Contains("candidate=digits"));
        Assert.Equal(200, compared.Status);
        using var comparison = JsonDocument.Parse(await compared.BodyAsync());
        var root = comparison.RootElement;

        // Agreement and accuracy as the endpoint counts them, and at least what this test seeded.
        var inputs = root.GetProperty("inputs").GetInt64();
        var agreed = root.GetProperty("agreed").GetInt64();
        Assert.True(inputs >= seeded.Count);
        await Expect(page.Locator("#compare-agreement li[data-agreed]")).ToHaveAttributeAsync("data-agreed", agreed.ToString());
        await Expect(page.Locator("#compare-agreement li[data-agreed]")).ToHaveAttributeAsync("data-inputs", inputs.ToString());
        await Expect(page.Locator("#compare-agreement li[data-disagreed]")).ToHaveAttributeAsync("data-disagreed", (inputs - agreed).ToString());
        var accuracy = root.GetProperty("accuracy");
        await Expect(page.Locator("#compare-accuracy li[data-side='baseline']")).ToHaveAttributeAsync("data-correct", accuracy.GetProperty("baseline_correct").GetInt64().ToString());
        await Expect(page.Locator("#compare-accuracy li[data-side='candidate']")).ToHaveAttributeAsync("data-correct", accuracy.GetProperty("candidate_correct").GetInt64().ToString());
        var classes = root.GetProperty("classes").EnumerateArray().Where(c => c.GetProperty("inputs").GetInt64() > 0).ToList();
        var rows = await page.Locator("#compare-classes li").EvaluateAllAsync<long[][]>(
            "rows => rows.map(r => [Number(r.dataset.class), Number(r.dataset.inputs), Number(r.dataset.agreed)])");
        Assert.Equal(classes.Select(c => new[] { c.GetProperty("class").GetInt64(), c.GetProperty("inputs").GetInt64(), c.GetProperty("agreed").GetInt64() }), rows);

        // The strip: the disagreements the endpoint listed, in its order, each picture the stored input; the seeded ones among them.
        var listed = root.GetProperty("disagreements").EnumerateArray().Select(d => d.GetProperty("baseline").GetProperty("prediction_id").GetInt64()).ToList();
        var strip = page.Locator("#strip li");
        await Expect(strip).ToHaveCountAsync(listed.Count);
        var shown = await strip.EvaluateAllAsync<long[]>("items => items.map(item => Number(item.dataset.baselineId))");
        Assert.Equal(listed, shown);
        Assert.All(seeded.Where(s => s.DigitsClass != s.MnistClass), s => Assert.Contains(s.MnistId, shown));
        Assert.DoesNotContain(seeded.First(s => s.DigitsClass == s.MnistClass).MnistId, shown);
        await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#strip img')].every(i => i.complete && i.naturalWidth > 0)");
        var sources = await page.Locator("#strip img").EvaluateAllAsync<string[]>("images => images.map(i => i.getAttribute('src'))");
        Assert.Equal(listed.Select(id => $"prediction/{id}/image"), sources);

        await page.Locator("#compare-heading").ScrollIntoViewIfNeededAsync();
        await session.ScreenshotAsync("dashboard-compare.png", fullPage: true);
        session.AssertHealthy();
    }

    private sealed record Seeded(long InputId, long MnistId, int MnistClass, long DigitsId, int DigitsClass, string? TrueLabel);

    /// <summary>
    /// Twelve MNIST test digits classified by mnist through the API, and by "digits" in SQL on the same inputs: the
    /// same class for two in three, another for the rest; the first six get their true digit as the true label.
    /// </summary>
    private async Task<List<Seeded>> SeedTwoModelsAsync(int first)
    {
        const string addPrediction = """
            INSERT INTO predictions (input_id, model_name, model_version, probabilities, likely_class, confidence)
            SELECT input_id, 'digits', '1', @Probabilities::jsonb, @Class, @Confidence FROM predictions WHERE id = @Id
            RETURNING id, input_id
            """;
        const string label = """UPDATE predictions SET true_label = @Label, labeled_at = now() WHERE input_id = @Input""";
        var seeded = new List<Seeded>();
        await using var connection = new NpgsqlConnection(service.ConnectionString);
        for (var i = 0; i < 12; i++)
        {
            using var response = await service.Client.PostAsync("/prediction?model=mnist", TestImages.Form(Mnist.Png(first + i), $"mnist-{first + i}.png"));
            response.EnsureSuccessStatusCode();
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            var mnistId = result.GetProperty("prediction_id").GetInt64();
            var mnistClass = result.GetProperty("likely_class").GetInt32();
            var digitsClass = i % 3 == 0 ? (mnistClass + 1) % 10 : mnistClass;
            var row = new SeedRow("digits", digitsClass, 0.6f + i / 40f, DateTime.UtcNow);
            var (digitsId, inputId) = await connection.QuerySingleAsync<(long, long)>(addPrediction,
                new { Probabilities = JsonSerializer.Serialize(row.Probabilities()), Class = digitsClass, Confidence = row.Confidence, Id = mnistId });
            var trueLabel = i < 6 ? Mnist.Labels[first + i].ToString() : null;
            if (trueLabel is not null)
            {
                await connection.ExecuteAsync(label, new { Label = trueLabel, Input = inputId });
            }

            seeded.Add(new Seeded(inputId, mnistId, mnistClass, digitsId, digitsClass, trueLabel));
        }

        return seeded;
    }

    private async Task<BrowserSession> OpenAsync(int width, int height, string path = "/", [CallerMemberName] string test = "")
    {
        var session = await BrowserSession.OpenAsync(browser, service.BaseAddress, width, height, test);
        await session.Page.GotoAsync(path);
        await Expect(session.Page.Locator("#gallery")).ToHaveAttributeAsync("aria-busy", "false");
        return session;
    }
}
