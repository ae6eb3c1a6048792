using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using static Microsoft.Playwright.Assertions;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// The page showing what strangers stored: file names and notes holding markup stay text, and the detail
/// dialog's form changes exactly what the person changed (a note emptied there is cleared, not kept).
/// </summary>
public sealed class HostileLedgerTests(BrowserFixture browser, LiveServiceFixture service)
    : IClassFixture<BrowserFixture>, IClassFixture<LiveServiceFixture>
{
    private const string Markup = "<img src=x onerror=window.__pwned=1><script>window.__pwned=2</script>";

    [BrowserFact]
    public async Task StoredMarkupIsShownAsTextAndAnEmptiedNoteIsCleared()
    {
        // No slash in the file name: the service keeps only the part after the last one.
        var stored = await service.Client.PostPredictionAsync(Mnist.Png(0), "<img src=x onerror=window.__pwned=3>.png");
        var id = stored.GetProperty("prediction_id").GetInt64();
        var label = stored.GetProperty("labels")[0].GetProperty("name").GetString()!;
        using (var patch = await service.Client.PatchAsync($"/prediction/{id}",
            new StringContent(JsonSerializer.Serialize(new { true_label = label, note = Markup }), Encoding.UTF8, "application/json")))
        {
            patch.EnsureSuccessStatusCode();
        }

        await using var session = await BrowserSession.OpenAsync(browser, service.BaseAddress, 1280, 900, nameof(StoredMarkupIsShownAsTextAndAnEmptiedNoteIsCleared));
        var page = session.Page;
        await page.GotoAsync("/");
        await page.Locator($"#gallery button[data-id='{id}']").ClickAsync();

        // The stored values, character for character, and nothing of them run or parsed.
        await Expect(page.Locator("#detail-filename")).ToContainTextAsync("<img src=x onerror=window.__pwned=3>.png");
        await Expect(page.Locator("#detail-true-label")).ToHaveTextAsync($"{label} ({Markup})");
        await Expect(page.Locator("#label-note")).ToHaveValueAsync(Markup);
        Assert.Equal(0, await page.Locator("#detail img[src='x'], #detail script").CountAsync());
        Assert.Null(await page.EvaluateAsync<int?>("() => window.__pwned ?? null"));

        // Emptying the note and saving clears it on the server, and the dialog says so.
        await page.Locator("#label-note").FillAsync("");
        var saved = await page.RunAndWaitForResponseAsync(() => page.Locator("#label-save").ClickAsync(), r => r.Request.Method == "PATCH");
        Assert.Equal(200, saved.Status);
        await Expect(page.Locator("#label-message")).ToContainTextAsync($"the true label is {label}");
        var after = await service.Client.GetFromJsonAsync<JsonElement>($"/prediction/{id}");
        Assert.Equal(JsonValueKind.Null, after.GetProperty("note").ValueKind);
        Assert.Equal(label, after.GetProperty("true_label").GetString());
        await Expect(page.Locator("#detail-true-label")).ToHaveTextAsync(label);

        session.AssertHealthy();
    }
}
