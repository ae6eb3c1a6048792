namespace PredictionApi.Auth;

/// <summary>One key's current rate-limit window: when it began and how many requests it has let through.</summary>
internal sealed class KeyWindow(DateTimeOffset start)
{
    public DateTimeOffset Start { get; set; } = start;

    public int Count { get; set; }
}
