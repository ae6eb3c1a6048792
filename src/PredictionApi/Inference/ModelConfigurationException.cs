namespace PredictionApi.Inference;

/// <summary>A model folder that cannot be served as it is; the message says what to change.</summary>
public sealed class ModelConfigurationException(string message) : Exception(message);
