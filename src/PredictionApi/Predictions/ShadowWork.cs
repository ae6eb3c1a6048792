using PredictionApi.Inference;

namespace PredictionApi.Predictions;

/// <summary>A stored input to classify with the shadow models of the model that answered it, on behalf of the key that sent it.</summary>
public sealed record ShadowWork(long InputId, ReadOnlyMemory<byte> Bytes, IReadOnlyList<ModelSelector> Shadows, string? CreatedBy);
