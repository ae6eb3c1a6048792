namespace PredictionApi.Inference;

public sealed record OutputSpec(string Name, OutputKind Kind, int Classes);
