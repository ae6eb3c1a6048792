namespace PredictionApi.Predictions;

/// <summary>The files of an upload, in request order, and the sha256 of the request they came in (path, query and files).</summary>
public sealed record UploadedFiles(IReadOnlyList<UploadedFile> Files, byte[] RequestSha256);
