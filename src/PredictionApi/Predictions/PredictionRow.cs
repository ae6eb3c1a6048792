using System.Text.Json;
using PredictionApi.Storage.InputStores;

namespace PredictionApi.Predictions;

/// <summary>
/// A prediction joined with its input: where the input's bytes are (<see cref="StorageKind"/>,
/// <see cref="ObjectKey"/>) and how many there are. <see cref="Data"/>, the base64 bytes kept in the
/// database, is only read for a single prediction; a page reads the images it has room for afterwards.
/// </summary>
public sealed record PredictionRow(long Id, long InputId, string Filename, string ContentType, string Probabilities, int LikelyClass,
    float Confidence, string ModelName, string ModelVersion, DateTime CreatedAt, string? TrueLabel, string? Note, DateTime? LabeledAt,
    string StorageKind, string? ObjectKey, int ByteSize, string? CreatedBy, bool Shadow, string? Data)
{
    /// <summary>The input, for reading its bytes from wherever they are kept.</summary>
    public StoredInput Input => new(InputId, ContentType, StorageKind, Data, ObjectKey);

    /// <summary>How many classes the model that made it has: the length of its probability row.</summary>
    public int Classes => JsonSerializer.Deserialize<float[]>(Probabilities)?.Length ?? 0;

    /// <summary>The prediction as the API returns it; <paramref name="withImage"/> embeds bytes kept in the database.</summary>
    public StoredPrediction ToContract(bool withImage) => new(Id, InputId, Filename, ContentType,
        JsonSerializer.Deserialize<float[]>(Probabilities) ?? [], LikelyClass, Confidence, new ModelRef(ModelName, ModelVersion), CreatedAt,
        TrueLabel, Note, withImage && Data is not null ? InputImages.DataUrl(ContentType, Data) : null) { LabeledAt = LabeledAt, CreatedBy = CreatedBy, Shadow = Shadow };
}
