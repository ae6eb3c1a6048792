using Microsoft.Playwright;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// One browser tab on the service, in its own context (no shared cookies or cache), that records
/// script errors and any request leaving the service, so every test can assert the page stayed
/// healthy and self-contained.
/// </summary>
public sealed class BrowserSession : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly string _screenshots;
    private readonly List<string> _scriptErrors = [];
    private readonly List<string> _foreignRequests = [];

    private readonly string _name;

    private BrowserSession(IBrowserContext context, IPage page, Uri origin, string screenshots, string name)
    {
        _context = context;
        _screenshots = screenshots;
        _name = name;
        Page = page;
        page.PageError += (_, error) => _scriptErrors.Add(error);
        page.Request += (_, request) =>
        {
            // data: and blob: URLs never leave the browser; everything else must go to the service.
            var url = new Uri(request.Url);
            if (url.Scheme is not ("data" or "blob") && !origin.IsBaseOf(url))
            {
                _foreignRequests.Add(request.Url);
            }
        };
    }

    public IPage Page { get; }

    public static async Task<BrowserSession> OpenAsync(BrowserFixture fixture, Uri origin, int width, int height, string name)
    {
        var context = await fixture.Browser.NewContextAsync(new()
        {
            BaseURL = origin.ToString(),
            ViewportSize = new() { Width = width, Height = height },
            Locale = "en-US",
            TimezoneId = "UTC",
        });
        var page = await context.NewPageAsync();
        return new BrowserSession(context, page, origin, fixture.ScreenshotDirectory, name);
    }

    /// <summary>Saves a PNG once every thumbnail in view has arrived (they load lazily).</summary>
    public async Task ScreenshotAsync(string name, bool fullPage = false)
    {
        await Page.WaitForFunctionAsync(
            """
            fullPage => [...document.images].every(image => {
              const box = image.getBoundingClientRect();
              // Chromium fetches lazy images some distance ahead of the viewport; those must be in.
              const reach = fullPage ? innerHeight + 600 : innerHeight;
              const inView = box.bottom > 0 && box.top < reach;
              return !inView || image.classList.contains("broken") || (image.complete && image.naturalWidth > 0);
            })
            """,
            fullPage);
        await Page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, name), FullPage = fullPage });
    }

    /// <summary>No uncaught script error, and nothing fetched from anywhere but the service.</summary>
    public void AssertHealthy()
    {
        Assert.Empty(_scriptErrors);
        Assert.Empty(_foreignRequests);
    }

    public async ValueTask DisposeAsync()
    {
        // The last state of every test, so a failure can be seen and not only read about.
        try
        {
            await Page.ScreenshotAsync(new() { Path = Path.Combine(_screenshots, "last", _name + ".png"), FullPage = true, Timeout = 5000 });
        }
        catch (PlaywrightException)
        {
            // A page that cannot be photographed must not hide the test's own failure.
        }
        await _context.DisposeAsync();
    }
}
