namespace PredictionApi.Storage.InputStores;

/// <summary>The values of inputs.storage_kind (db/schema.sql allows exactly these).</summary>
public static class StorageKinds
{
    /// <summary>The bytes are base64 in inputs.data.</summary>
    public const string Database = "database";

    /// <summary>The bytes are an object in the bucket, named by inputs.object_key.</summary>
    public const string Object = "object";
}
