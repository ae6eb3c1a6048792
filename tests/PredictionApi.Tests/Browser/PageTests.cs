using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using PredictionApi.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// Drives the real page in headless Chromium against the real service on Kestrel with a real
/// PostgreSQL and the real model: what a person trying the demo does, end to end.
/// </summary>
public sealed partial class PageTests(BrowserFixture browser, LiveServiceFixture service)
    : IClassFixture<BrowserFixture>, IClassFixture<LiveServiceFixture>
{
    private const int Desktop = 1280;
    private const int Phone = 390;

    [BrowserFact]
    public async Task DrawingASevenShowsTheClassBarsAndTensorAndStoresItInTheGallery()
    {
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;

        await DrawSevenAsync(page);
        var response = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#predict").ClickAsync(), IsPredictionPost);
        Assert.Equal(200, response.Status);
        // Every click carries its own Idempotency-Key, so a retried request cannot store the drawing twice.
        var key = await response.Request.HeaderValueAsync("idempotency-key");
        Assert.Matches("^[0-9a-f]{32}$", key);
        using var body = JsonDocument.Parse(await response.BodyAsync());
        var result = body.RootElement;
        var id = result.GetProperty("prediction_id").GetInt64();
        var likely = result.GetProperty("likely_class").GetInt32();
        var probabilities = result.GetProperty("prediction").EnumerateArray().Select(p => p.GetDouble()).ToArray();
        var labels = await LabelsAsync(result.GetProperty("model").GetProperty("name").GetString()!);

        // The likely class, big, and one bar per class whose length is its probability.
        await Expect(page.Locator("#result-class")).ToHaveTextAsync(labels[likely]);
        var bars = page.Locator("#bars li");
        await Expect(bars).ToHaveCountAsync(probabilities.Length);
        await Expect(page.Locator("#bars li.likely")).ToHaveAttributeAsync("data-class", likely.ToString());
        var widths = await page.Locator("#bars .bar-fill").EvaluateAllAsync<double[]>(
            "fills => fills.map(fill => parseFloat(fill.style.width))");
        for (var i = 0; i < probabilities.Length; i++)
        {
            Assert.Equal(probabilities[i] * 100, widths[i], 3);
            await Expect(bars.Nth(i)).ToContainTextAsync(labels[i]);
            await Expect(bars.Nth(i)).ToContainTextAsync("%");
        }

        // The 28x28 the model saw is drawn pixel for pixel from the tensor in the response.
        var tensor = result.GetProperty("tensor");
        var data = tensor.GetProperty("data").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(data.Max() > 0.5f, "the stroke should reach the model as ink");
        await Expect(page.Locator("#tensor-figure")).ToBeVisibleAsync();
        var gray = await page.Locator("#tensor").EvaluateAsync<int[]>(
            "canvas => Array.from(canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data).filter((_, i) => i % 4 === 0)");
        Assert.Equal(data.Length, gray.Length);
        for (var i = 0; i < data.Length; i++)
        {
            Assert.InRange(gray[i], Math.Round(data[i] * 255) - 1, Math.Round(data[i] * 255) + 1);
        }

        // The gallery reloads and shows the new prediction, marked as new, as the API stored it.
        var card = page.Locator($"#gallery button[data-id='{id}']");
        await Expect(card).ToBeVisibleAsync();
        await Expect(card).ToHaveAttributeAsync("data-class", likely.ToString());
        await Expect(page.Locator($"#gallery li.fresh button[data-id='{id}']")).ToHaveCountAsync(1);
        var stored = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(likely, stored.GetProperty("likely_class").GetInt32());
        Assert.Equal("drawing.png", stored.GetProperty("filename").GetString());
        Assert.StartsWith("data:image/png;base64,", stored.GetProperty("image").GetString());

        await session.ScreenshotAsync("desktop-prediction.png", fullPage: true);

        // Detail: opened by click, closed by Escape, opened again from the keyboard.
        await card.ClickAsync();
        var dialog = page.Locator("#detail");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#detail-class")).ToHaveTextAsync(labels[likely]);
        await Expect(page.Locator("#detail-bars li")).ToHaveCountAsync(probabilities.Length);
        await Expect(page.Locator("#detail-model")).ToContainTextAsync(result.GetProperty("model").GetProperty("name").GetString()!);
        Assert.True(await page.Locator("#detail-image").EvaluateAsync<bool>("image => image.complete && image.naturalWidth > 0"));
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();
        await Expect(card).ToBeFocusedAsync();
        await page.Keyboard.PressAsync("Enter");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#detail-class")).ToHaveTextAsync(labels[likely]);

        // Record the true label; a server without the feedback endpoint gets a polite message.
        var trueLabel = labels[7 % labels.Length];
        await page.Locator("#label-select").SelectOptionAsync(trueLabel);
        await page.Locator("#label-note").FillAsync("drawn in the browser test");
        var patch = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#label-save").ClickAsync(), r => r.Request.Method == "PATCH");
        if (patch.Status == 200)
        {
            await Expect(page.Locator("#label-message")).ToContainTextAsync($"the true label is {trueLabel}");
            await Expect(page.Locator("#detail-true-label")).ToContainTextAsync(trueLabel);
            var labelled = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
            Assert.Equal(trueLabel, labelled.GetProperty("true_label").GetString());
        }
        else
        {
            Assert.Contains(patch.Status, new[] { 404, 405 });
            await Expect(page.Locator("#label-message")).ToContainTextAsync("does not record true labels yet");
        }
        await session.ScreenshotAsync("desktop-detail.png");
        await page.Keyboard.PressAsync("Escape");
        await Expect(dialog).ToBeHiddenAsync();

        // Phone width: one column, nothing wider than the screen.
        var desktopInput = (await page.Locator(".input-panel").BoundingBoxAsync())!;
        var desktopOutput = (await page.Locator("#result").BoundingBoxAsync())!;
        Assert.True(desktopOutput.X >= desktopInput.X + desktopInput.Width, "on a desktop the result sits beside the pad");
        await page.SetViewportSizeAsync(Phone, 844);
        Assert.True(await page.EvaluateAsync<bool>($"document.documentElement.scrollWidth <= {Phone}"),
            "the page must not scroll sideways on a phone");
        var input = (await page.Locator(".input-panel").BoundingBoxAsync())!;
        var output = (await page.Locator("#result").BoundingBoxAsync())!;
        Assert.True(output.Y >= input.Y + input.Height, "on a phone the result goes below the drawing pad");
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await session.ScreenshotAsync("phone-drawing.png");
        await page.Locator("#result").ScrollIntoViewIfNeededAsync();
        await session.ScreenshotAsync("phone-prediction.png");
        await page.Locator("#gallery-heading").ScrollIntoViewIfNeededAsync();
        await session.ScreenshotAsync("phone-gallery.png");

        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task UploadingATextFileShowsTheServersReasonInWords()
    {
        await using var session = await OpenAsync(Phone, 844);
        var page = session.Page;

        var response = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#file").SetInputFilesAsync(new FilePayload
            {
                Name = "notes.png",
                MimeType = "image/png",
                Buffer = "These are my notes, not a picture."u8.ToArray(),
            }),
            IsPredictionPost);

        Assert.InRange(response.Status, 400, 499);
        using var problem = JsonDocument.Parse(await response.BodyAsync());
        var detail = problem.RootElement.GetProperty("detail").GetString()!;
        var message = page.Locator("#message");
        await Expect(message).ToHaveClassAsync(ErrorClass());
        await Expect(message).ToContainTextAsync(detail.TrimEnd('.'));
        var shown = await message.InnerTextAsync();
        Assert.DoesNotContain("{", shown);
        Assert.DoesNotContain("\"status\"", shown);
        await Expect(page.Locator("#pad-file")).ToContainTextAsync("notes.png");
        await Expect(page.Locator("#result-body")).ToBeHiddenAsync();

        await session.ScreenshotAsync("phone-upload-error.png");
        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task UploadingAFileOverTheLimitSaysItIsTooLarge()
    {
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;
        var tooLarge = new byte[10 * 1024 * 1024 + 1];
        new Random(5).NextBytes(tooLarge);

        var response = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#file").SetInputFilesAsync(new FilePayload { Name = "huge.png", MimeType = "image/png", Buffer = tooLarge }),
            IsPredictionPost);

        Assert.Equal(413, response.Status);
        using var problem = JsonDocument.Parse(await response.BodyAsync());
        var message = page.Locator("#message");
        await Expect(message).ToHaveClassAsync(ErrorClass());
        await Expect(message).ToContainTextAsync(problem.RootElement.GetProperty("detail").GetString()!.TrimEnd('.'));
        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task LosingTheConnectionShowsAMessageAndDropsTheStaleResult()
    {
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;
        await DrawSevenAsync(page);
        await page.Locator("#predict").ClickAsync();
        await Expect(page.Locator("#result-body")).ToBeVisibleAsync();

        // The network fails for the next upload only, as when Wi-Fi drops mid-request.
        await page.RouteAsync(PredictionPostUrl(), route => route.AbortAsync("internetdisconnected"));
        await page.Locator("#predict").ClickAsync();

        var message = page.Locator("#message");
        await Expect(message).ToContainTextAsync("Could not reach the service");
        await Expect(message).ToHaveClassAsync(ErrorClass());
        await Expect(page.Locator("#result-body")).ToBeHiddenAsync();
        await Expect(page.Locator("#result-empty")).ToContainTextAsync("No prediction for this input");
        await Expect(page.Locator("#predict")).ToBeEnabledAsync();
        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task EveryLinkOnThePageLeadsSomewhereOnTheService()
    {
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;
        var links = await page.Locator("a[href]").EvaluateAllAsync<string[]>("links => links.map(link => link.href)");
        Assert.NotEmpty(links);
        foreach (var link in links.Where(link => !link.Contains('#')))
        {
            var answer = await page.APIRequest.GetAsync(link);
            Assert.True(answer.Ok, $"{link} answered {answer.Status}");
        }

        session.AssertHealthy();
    }

    [BrowserFact]
    public async Task GalleryLoadsMoreThroughTheCursorAndFiltersByPredictedClass()
    {
        var seeded = await SeedMnistPredictionsAsync(30);
        await using var session = await OpenAsync(Desktop, 900);
        var page = session.Page;
        var cards = page.Locator("#gallery button[data-id]");

        // Scrolling to the end of the first page fetches the next one with next_cursor.
        var firstPage = await cards.CountAsync();
        Assert.True(firstPage < seeded.Count, "thirty new predictions cannot all fit on the first page");
        await page.Locator("#more").ScrollIntoViewIfNeededAsync();
        await page.WaitForFunctionAsync(
            $"() => document.querySelectorAll('#gallery button[data-id]').length > {firstPage}");
        var shown = await CardIdsAsync(page);
        Assert.Equal(shown.Length, shown.Distinct().Count());
        Assert.All(seeded, s => Assert.Contains(s.Id, shown));
        Assert.Equal(await ApiIdsAsync("", shown.Length), shown);

        // Filtering asks the API for one predicted class and shows exactly what it answers.
        var wanted = seeded[0].LikelyClass;
        await page.RunAndWaitForResponseAsync(
            () => page.Locator("#filter").SelectOptionAsync(wanted.ToString()),
            r => r.Url.Contains($"likely_class={wanted}"));
        await Expect(cards.First).ToBeVisibleAsync();
        var filtered = await CardIdsAsync(page);
        var classes = await cards.EvaluateAllAsync<string[]>("cards => cards.map(card => card.dataset.class)");
        Assert.All(classes, c => Assert.Equal(wanted.ToString(), c));
        Assert.All(seeded.Where(s => s.LikelyClass == wanted), s => Assert.Contains(s.Id, filtered));
        Assert.Equal(await ApiIdsAsync($"&likely_class={wanted}", filtered.Length), filtered);

        session.AssertHealthy();
    }

    private async Task<BrowserSession> OpenAsync(int width, int height, [CallerMemberName] string test = "")
    {
        var session = await BrowserSession.OpenAsync(browser, service.BaseAddress, width, height, test);
        await session.Page.GotoAsync("/");
        // The gallery is busy from the first paint until its first page has arrived (or failed).
        await Expect(session.Page.Locator("#gallery")).ToHaveAttributeAsync("aria-busy", "false");
        return session;
    }

    internal static async Task DrawSevenAsync(IPage page)
    {
        var box = await page.Locator("#pad").BoundingBoxAsync()
            ?? throw new InvalidOperationException("The drawing pad is not on screen.");
        float X(double fraction) => (float)(box.X + box.Width * fraction);
        float Y(double fraction) => (float)(box.Y + box.Height * fraction);

        // A 7: a bar across the top, then a long diagonal down to the left.
        await page.Mouse.MoveAsync(X(0.25), Y(0.2));
        await page.Mouse.DownAsync();
        await page.Mouse.MoveAsync(X(0.75), Y(0.2), new() { Steps = 12 });
        await page.Mouse.MoveAsync(X(0.42), Y(0.82), new() { Steps = 16 });
        await page.Mouse.UpAsync();
        await Expect(page.Locator("#predict")).ToBeEnabledAsync();
    }

    private static Task<long[]> CardIdsAsync(IPage page) =>
        page.Locator("#gallery button[data-id]").EvaluateAllAsync<long[]>("cards => cards.map(card => Number(card.dataset.id))");

    /// <summary>The first <paramref name="count"/> ids the API lists, following its cursor.</summary>
    private async Task<long[]> ApiIdsAsync(string filter, int count)
    {
        var ids = new List<long>();
        string? cursor = null;
        do
        {
            var url = $"/predictions?limit=100{filter}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = await service.Client.GetFromJsonAsync<JsonElement>(url);
            ids.AddRange(page.GetProperty("items").EnumerateArray().Select(item => item.GetProperty("prediction_id").GetInt64()));
            cursor = page.GetProperty("next_cursor").GetString();
        }
        while (cursor is not null && ids.Count < count);
        return [.. ids.Take(count)];
    }

    /// <summary>Stores real MNIST test digits, as PNG files, through the real API.</summary>
    private async Task<List<(long Id, int LikelyClass)>> SeedMnistPredictionsAsync(int count)
    {
        var stored = new List<(long, int)>();
        for (var i = 0; i < count; i++)
        {
            using var form = new MultipartFormDataContent();
            var png = new ByteArrayContent(Mnist.Png(i));
            png.Headers.ContentType = new("image/png");
            form.Add(png, "file", $"mnist-{i}.png");
            using var response = await service.Client.PostAsync("prediction", form);
            response.EnsureSuccessStatusCode();
            var result = await response.Content.ReadFromJsonAsync<JsonElement>();
            stored.Add((result.GetProperty("prediction_id").GetInt64(), result.GetProperty("likely_class").GetInt32()));
        }
        return stored;
    }

    private async Task<string[]> LabelsAsync(string model)
    {
        var metadata = await service.Client.GetFromJsonAsync<JsonElement>($"/models/{model}");
        return metadata.GetProperty("labels").EnumerateArray().Select(label => label.GetString()!).ToArray();
    }

    internal static bool IsPredictionPost(IResponse response) =>
        response.Request.Method == "POST" && PredictionPostUrl().IsMatch(response.Url);

    [GeneratedRegex(@"/prediction\?(model=[^&]+&)?include=tensor$")]
    private static partial Regex PredictionPostUrl();

    [GeneratedRegex(@"\berror\b")]
    private static partial Regex ErrorClass();
}
