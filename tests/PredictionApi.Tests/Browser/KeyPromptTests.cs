using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Npgsql;
using PredictionApi.Auth;
using static Microsoft.Playwright.Assertions;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// The page on a service that requires keys: it asks for one in a form when the service answers 401, keeps it
/// for the tab's session only, sends it as a bearer token (images included), and explains a 403 in words.
/// </summary>
public sealed partial class KeyPromptTests(BrowserFixture browser, LiveServiceFixture service)
    : IClassFixture<BrowserFixture>, IClassFixture<LiveServiceFixture>
{
    [BrowserFact]
    public async Task A401AsksForAKeyInAFormAndA403SaysWhichPermissionIsMissing()
    {
        await using var dataSource = NpgsqlDataSource.Create(service.ConnectionString);
        var store = new ApiKeyStore(dataSource);
        var all = (await store.CreateAsync("uploader", ["predict", "read"], null, null, CancellationToken.None))!.Value.Key;
        var viewer = (await store.CreateAsync("viewer", ["read"], null, null, CancellationToken.None))!.Value.Key;
        using (var seed = new HttpClient { BaseAddress = service.BaseAddress })
        {
            seed.DefaultRequestHeaders.Authorization = new("Bearer", all);
            await seed.PostPredictionAsync(Mnist.Png(0));
            // The service may have cached "no keys" for a few seconds: wait until it asks for one.
            while ((await service.Client.GetAsync("predictions")).StatusCode != HttpStatusCode.Unauthorized)
            {
                await Task.Delay(200);
            }
        }

        await using var session = await BrowserSession.OpenAsync(browser, service.BaseAddress, 1280, 900, nameof(A401AsksForAKeyInAFormAndA403SaysWhichPermissionIsMissing));
        var page = session.Page;
        await page.GotoAsync("/");

        // Asked once, in the page's own form, although the gallery and the model both were refused.
        var dialog = page.Locator("#key-dialog");
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(page.Locator("#key-input")).ToBeFocusedAsync();
        await Expect(page.Locator("#key-input")).ToHaveAttributeAsync("type", "password");
        await Expect(page.Locator("#key-reason")).ToBeHiddenAsync();
        await Expect(page.Locator("#forget-key")).ToBeHiddenAsync();
        await session.ScreenshotAsync("key-prompt.png");

        // A wrong key: asked again, with the service's reason.
        await page.Locator("#key-input").FillAsync(ApiKeyTokens.New());
        await page.Locator("#key-use").ClickAsync();
        await Expect(page.Locator("#key-reason")).ToContainTextAsync("not one this service issued");
        await Expect(dialog).ToBeVisibleAsync();

        // The viewer's key: the gallery loads, its image fetched with the key.
        await page.Locator("#key-input").FillAsync(viewer);
        var listed = await page.RunAndWaitForResponseAsync(() => page.Locator("#key-use").ClickAsync(), r => r.Url.Contains("/predictions?"));
        Assert.Equal(200, listed.Status);
        Assert.Equal($"Bearer {viewer}", await listed.Request.HeaderValueAsync("authorization"));
        await Expect(dialog).ToBeHiddenAsync();
        var card = page.Locator("#gallery button[data-id] img");
        await Expect(card).ToHaveCountAsync(1);
        await page.WaitForFunctionAsync("() => { const i = document.querySelector('#gallery img'); return i.complete && i.naturalWidth > 0; }");
        Assert.StartsWith("blob:", await card.GetAttributeAsync("src"));
        Assert.Equal(viewer, await page.EvaluateAsync<string>("() => sessionStorage.getItem('predictionapi-key')"));
        Assert.Equal(0, await page.EvaluateAsync<int>("() => localStorage.length"));
        await Expect(page.Locator("#forget-key")).ToBeVisibleAsync();

        // Uploading with a key that may only read: a 403, said in words.
        var refused = await page.RunAndWaitForResponseAsync(
            () => page.Locator("#file").SetInputFilesAsync(new FilePayload { Name = "digit.png", MimeType = "image/png", Buffer = Mnist.Png(1) }),
            r => r.Request.Method == "POST");
        Assert.Equal(403, refused.Status);
        var message = page.Locator("#message");
        await Expect(message).ToHaveClassAsync(ErrorClass());
        await Expect(message).ToContainTextAsync("does not have the “predict” permission");
        await Expect(message).ToContainTextAsync("classify and store images");
        await Expect(dialog).ToBeHiddenAsync();
        await session.ScreenshotAsync("key-403.png");

        // A reload in the same tab keeps the key; forgetting it asks again.
        await page.ReloadAsync();
        await Expect(page.Locator("#gallery button[data-id]")).ToHaveCountAsync(1);
        await Expect(dialog).ToBeHiddenAsync();
        await page.Locator("#forget-key").ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        Assert.Null(await page.EvaluateAsync<string?>("() => sessionStorage.getItem('predictionapi-key')"));
        session.AssertHealthy();
    }

    [GeneratedRegex(@"\berror\b")]
    private static partial Regex ErrorClass();
}
