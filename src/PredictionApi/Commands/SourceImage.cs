namespace PredictionApi.Commands;

/// <summary>One image to classify: a name (stored as the input's filename) and how to read it.</summary>
public sealed record SourceImage(string Name, string Location);
