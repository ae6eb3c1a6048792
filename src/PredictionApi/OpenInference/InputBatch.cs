namespace PredictionApi.OpenInference;

/// <summary>
/// A request's input, checked against the model: <see cref="Count"/> items, either FP32 tensors laid end to end in
/// <see cref="Tensors"/> or encoded images in <see cref="Images"/>.
/// </summary>
internal sealed record InputBatch(int Count, float[]? Tensors, byte[][]? Images);
