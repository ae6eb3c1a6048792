namespace PredictionApi.Storage.InputStores;

/// <summary>What goes into the input row: the base64 bytes, or the key of the object holding them.</summary>
public sealed record InputPayload(string StorageKind, string? Data, string? ObjectKey);
