namespace PredictionApi.Tests.Browser;

/// <summary>
/// A fact that needs the Debian chromium package. Without it the test is skipped with the reason,
/// except on CI (CI=true), where a missing browser must fail loudly instead of passing silently.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public BrowserFactAttribute()
    {
        if (!BrowserFixture.ChromiumInstalled && !BrowserFixture.RunningOnCi)
        {
            Skip = $"{BrowserFixture.ChromiumPath} is missing: install the Debian package 'chromium' to run the browser tests.";
        }
    }
}
