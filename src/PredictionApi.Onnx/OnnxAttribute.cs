namespace PredictionApi.Onnx;

/// <summary>A node attribute such as <c>kernel_shape</c> or <c>axis</c>. Create one with the static factories.</summary>
public sealed class OnnxAttribute
{
    // AttributeProto.AttributeType values from onnx.proto.
    private const int FloatType = 1, IntType = 2, StringType = 3, IntsType = 7;

    private readonly Action<ProtoWriter> writeValue;
    private readonly int type;

    private OnnxAttribute(string name, int type, Action<ProtoWriter> writeValue)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        this.type = type;
        this.writeValue = writeValue;
    }

    /// <summary>The attribute name, as the operator's specification spells it.</summary>
    public string Name { get; }

    /// <summary>A 64-bit integer attribute, e.g. <c>Int("axis", 1)</c>.</summary>
    public static OnnxAttribute Int(string name, long value) => new(name, IntType, w => w.Int64(3, value));

    /// <summary>A list of integers, e.g. <c>Ints("kernel_shape", 5, 5)</c>.</summary>
    public static OnnxAttribute Ints(string name, params long[] values) =>
        new(name, IntsType, w => { foreach (var v in values) w.Int64(8, v); });

    /// <summary>A 32-bit float attribute, e.g. <c>Float("alpha", 0.01f)</c>.</summary>
    public static OnnxAttribute Float(string name, float value) => new(name, FloatType, w => w.Float(2, value));

    /// <summary>A UTF-8 string attribute, e.g. <c>String("auto_pad", "SAME_UPPER")</c>.</summary>
    public static OnnxAttribute String(string name, string value) =>
        new(name, StringType, w => w.Bytes(4, System.Text.Encoding.UTF8.GetBytes(value)));

    internal ProtoWriter ToProto()
    {
        var proto = new ProtoWriter().String(1, Name);
        writeValue(proto);
        return proto.Int64(20, type);
    }
}
