namespace PredictionApi.Onnx;

/// <summary>
/// One dimension of a graph input or output: a fixed size (<c>28</c>) or a symbolic name (<c>"batch"</c>)
/// that ONNX Runtime leaves free. Converts implicitly from <see cref="long"/> and <see cref="string"/>.
/// </summary>
public readonly record struct OnnxDim
{
    private OnnxDim(long? value, string? param) => (Value, Param) = (value, param);

    /// <summary>The fixed size, or <c>null</c> for a symbolic dimension.</summary>
    public long? Value { get; }

    /// <summary>The symbolic name, or <c>null</c> for a fixed dimension.</summary>
    public string? Param { get; }

    /// <summary>A fixed dimension.</summary>
    public static implicit operator OnnxDim(long value) =>
        value >= 0 ? new(value, null) : throw new ArgumentOutOfRangeException(nameof(value), value, "A fixed dimension cannot be negative.");

    /// <summary>A symbolic dimension such as <c>"batch"</c>.</summary>
    public static implicit operator OnnxDim(string param) =>
        !string.IsNullOrWhiteSpace(param) ? new(null, param) : throw new ArgumentException("A symbolic dimension needs a name.", nameof(param));

    /// <inheritdoc />
    public override string ToString() => Param ?? Value!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
