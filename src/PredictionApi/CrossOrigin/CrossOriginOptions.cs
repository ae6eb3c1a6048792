namespace PredictionApi.CrossOrigin;

/// <summary>
/// Configuration section "Cors": the web origins whose pages may call the API from a browser (for example a
/// labelling tool served elsewhere). Empty, the default, sends no CORS headers, so browsers keep other origins out.
/// </summary>
public sealed class CrossOriginOptions
{
    public const string Section = "Cors";

    /// <summary>Origins as a browser sends them (scheme, host and port, no path), e.g. https://labels.example.com.</summary>
    public string[] AllowedOrigins { get; set; } = [];
}
