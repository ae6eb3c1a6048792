namespace PredictionApi.Predictions;

/// <summary>The input tensor exactly as the model received it (returned with ?include=tensor).</summary>
/// <param name="Layout">NCHW or NHWC.</param>
/// <param name="Shape">[1, C, H, W] or [1, H, W, C].</param>
/// <param name="Data">The values in that layout, flattened.</param>
public sealed record TensorPayload(string Layout, long[] Shape, float[] Data);
