namespace PredictionApi.OpenInference;

/// <summary>
/// The parameters this server reads and writes. Parameter values are scalars in the protocol, so lists of ids are
/// comma-separated decimal strings, in batch order.
/// </summary>
public static class InferenceParameters
{
    /// <summary>Response: the ids of the stored predictions (GET /prediction/{id}), one per batch item.</summary>
    public const string PredictionIds = "prediction_ids";

    /// <summary>Response: the ids of the stored inputs, one per batch item.</summary>
    public const string InputIds = "input_ids";

    /// <summary>
    /// Input parameter of a BYTES input: how its strings encode bytes. Only <see cref="Base64"/> (MLServer's name for
    /// it) is accepted, and it is what a BYTES input without the parameter is read as: an encoded image is binary, which
    /// a JSON string can only carry encoded.
    /// </summary>
    public const string ContentType = "content_type";

    public const string Base64 = "base64";
}
