using Google.Protobuf;

namespace PredictionApi.Onnx;

/// <summary>
/// Writes one protobuf message field by field. ONNX is plain protobuf, so a handful of field writers
/// with the field numbers of onnx.proto is all an exporter needs (no generated code, no protoc).
/// </summary>
internal sealed class ProtoWriter
{
    private readonly MemoryStream buffer = new();
    private readonly CodedOutputStream output;

    public ProtoWriter() => output = new CodedOutputStream(buffer, leaveOpen: true);

    public ProtoWriter String(int field, string? value)
    {
        if (string.IsNullOrEmpty(value)) return this;
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteString(value);
        return this;
    }

    public ProtoWriter Int64(int field, long value)
    {
        output.WriteTag(field, WireFormat.WireType.Varint);
        output.WriteInt64(value);
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        output.WriteTag(field, WireFormat.WireType.Fixed32);
        output.WriteFloat(value);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlyMemory<byte> value)
    {
        output.WriteTag(field, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(UnsafeByteOperations.UnsafeWrap(value));
        return this;
    }

    /// <summary>An embedded message has the same wire form as a length-prefixed byte string.</summary>
    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.ToArray());

    public byte[] ToArray()
    {
        output.Flush();
        return buffer.ToArray();
    }
}
