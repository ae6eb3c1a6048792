namespace PredictionApi.Predictions;

/// <summary>One uploaded file: its cleaned name and bytes, or why they were not kept (too large, empty).</summary>
public sealed record UploadedFile(string FileName, byte[] Bytes, BatchError? Error);
