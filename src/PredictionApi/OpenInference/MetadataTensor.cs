namespace PredictionApi.OpenInference;

/// <summary>A tensor of model metadata; -1 marks a dimension of any size (the batch).</summary>
public sealed record MetadataTensor(string Name, string Datatype, long[] Shape);
