namespace PredictionApi.Inference;

/// <summary>One ONNX graph input or output as the runtime reports it (-1 marks a dynamic dimension).</summary>
public sealed record TensorSignature(string Name, int[] Dimensions, Type ElementType);
