namespace PredictionApi.OpenInference;

/// <summary>GET /v2/models/{model}[/versions/{version}]: the inputs it takes and the outputs it answers with.</summary>
public sealed record ModelMetadata(string Name, string[] Versions, string Platform, MetadataTensor[] Inputs, MetadataTensor[] Outputs);
