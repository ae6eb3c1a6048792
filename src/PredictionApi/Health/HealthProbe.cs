namespace PredictionApi.Health;

/// <summary>
/// The <c>healthcheck [url]</c> command: asks a running instance whether it is ready and exits 0 when
/// it answers 200, 1 otherwise. The container's HEALTHCHECK runs it, because the ASP.NET runtime image
/// has neither curl nor wget. Without a URL it asks /health/ready where Kestrel listens in a container: the
/// first http address of ASPNETCORE_URLS (which Kestrel prefers when both are set), else the first of
/// ASPNETCORE_HTTP_PORTS, else 8080.
/// </summary>
public static class HealthProbe
{
    public const int Healthy = 0;
    public const int Unhealthy = 1;

    public static async Task<int> RunAsync(string[] args, TextWriter output, CancellationToken cancellationToken)
    {
        var url = args is [var given] ? given : DefaultUrl(Environment.GetEnvironmentVariable("ASPNETCORE_URLS"), Environment.GetEnvironmentVariable("ASPNETCORE_HTTP_PORTS"));
        if (args.Length > 1 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            await output.WriteLineAsync("Usage: PredictionApi healthcheck [http://host:port/health/ready]");
            return Unhealthy;
        }

        // Shorter than any sensible HEALTHCHECK --timeout, so the probe reports instead of being killed.
        using var client = new HttpClient { Timeout = TimeSpan.FromSeconds(4) };
        try
        {
            using var response = await client.GetAsync(uri, cancellationToken);
            await output.WriteLineAsync($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            return response.IsSuccessStatusCode ? Healthy : Unhealthy;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            await output.WriteLineAsync($"{uri} did not answer: {e.Message}");
            return Unhealthy;
        }
    }

    internal static string DefaultUrl(string? urls, string? httpPorts)
    {
        // An operator who moves the port with ASPNETCORE_URLS moves Kestrel off ASPNETCORE_HTTP_PORTS, and the probe with it.
        foreach (var address in Split(urls))
        {
            // Kestrel's wildcard hosts (+, *) are not valid in a Uri; the probe runs beside the service, so loopback reaches them.
            var parsable = address.Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1");
            if (Uri.TryCreate(parsable, UriKind.Absolute, out var uri) && uri.Scheme == "http")
            {
                var host = uri.Host is "0.0.0.0" or "[::]" or "localhost" ? "127.0.0.1" : uri.Host;
                return $"http://{host}:{uri.Port}/health/ready";
            }
        }

        var port = Split(httpPorts).FirstOrDefault() ?? "8080";
        return $"http://127.0.0.1:{port}/health/ready";
    }

    private static string[] Split(string? list) =>
        list?.Split([',', ';'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
}
