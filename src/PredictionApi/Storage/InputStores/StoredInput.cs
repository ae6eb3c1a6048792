namespace PredictionApi.Storage.InputStores;

/// <summary>Where a stored input's bytes are, as read from its row.</summary>
public sealed record StoredInput(long Id, string ContentType, string StorageKind, string? Data, string? ObjectKey);
