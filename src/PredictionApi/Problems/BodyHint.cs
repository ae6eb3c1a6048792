namespace PredictionApi.Problems;

/// <summary>How to send an endpoint's body, told to a caller who sent the wrong media type.</summary>
internal sealed record BodyHint(string Text);
