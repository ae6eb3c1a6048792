namespace PredictionApi.Predictions;

/// <summary>
/// One uploaded file: its cleaned name, its bytes and length, or why they were not kept (too large: no bytes, and the
/// length that was sent; empty).
/// </summary>
public sealed record UploadedFile(string FileName, byte[] Bytes, long Length, BatchError? Error);
