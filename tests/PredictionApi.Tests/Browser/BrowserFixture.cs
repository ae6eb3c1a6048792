using Microsoft.Playwright;

namespace PredictionApi.Tests.Browser;

/// <summary>
/// One headless Chromium for all browser tests: the system package, never a downloaded build,
/// so the tests run offline.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public static bool ChromiumInstalled => File.Exists(ChromiumPath);

    public static bool RunningOnCi =>
        string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    public IBrowser Browser => _browser ?? throw new InvalidOperationException("The browser did not start.");

    /// <summary>Where the tests write their screenshots: beside the test binaries.</summary>
    public string ScreenshotDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        if (!ChromiumInstalled)
        {
            if (RunningOnCi)
            {
                throw new InvalidOperationException(
                    $"{ChromiumPath} is missing and CI=true: install it with 'apt-get install -y chromium' (.ci/run does).");
            }
            return; // Every test is skipped by BrowserFactAttribute.
        }

        Directory.CreateDirectory(ScreenshotDirectory);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }
        _playwright?.Dispose();
    }
}
