namespace PredictionApi.Inference;

/// <param name="Shape">The ONNX input dimensions; -1 marks a dynamic one (the batch).</param>
public sealed record ModelInputInfo(
    string Name,
    string Layout,
    int[] Shape,
    int Height,
    int Width,
    int Channels,
    string ChannelOrder,
    string Scaling,
    float[] Mean,
    float[] Std,
    string Resize,
    string Background,
    string Profile);
