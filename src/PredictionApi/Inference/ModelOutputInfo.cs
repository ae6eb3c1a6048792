namespace PredictionApi.Inference;

public sealed record ModelOutputInfo(string Name, string Kind, int Classes);
