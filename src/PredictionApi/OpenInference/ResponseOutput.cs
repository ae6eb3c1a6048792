namespace PredictionApi.OpenInference;

/// <summary>One output tensor of an answer; <see cref="Data"/> is flat, row-major (numbers for FP32, strings for BYTES).</summary>
public sealed record ResponseOutput(string Name, long[] Shape, string Datatype, object Data);
