using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>A stored input to classify with the shadow models of the model that answered it.</summary>
public sealed record ShadowWork(long InputId, ReadOnlyMemory<byte> Bytes, IReadOnlyList<ModelSelector> Shadows);
