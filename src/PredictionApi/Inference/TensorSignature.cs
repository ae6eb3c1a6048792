namespace PredictionApi.Inference;

/// <summary>One ONNX graph input or output as the runtime reports it (-1 marks a dynamic dimension).</summary>
public sealed record TensorSignature(string Name, int[] Dimensions, Type ElementType)
{
    /// <summary>The element type as ONNX names it (float32, not .NET's Single), for messages to whoever exported the model.</summary>
    public string TypeName => ElementType.Name switch
    {
        nameof(Single) => "float32",
        nameof(Double) => "float64",
        nameof(Half) or "Float16" => "float16",
        "BFloat16" => "bfloat16",
        nameof(Byte) => "uint8",
        nameof(SByte) => "int8",
        nameof(Int16) => "int16",
        nameof(UInt16) => "uint16",
        nameof(Int32) => "int32",
        nameof(UInt32) => "uint32",
        nameof(Int64) => "int64",
        nameof(UInt64) => "uint64",
        nameof(Boolean) => "bool",
        nameof(String) => "string",
        nameof(Object) => "non-tensor",
        _ => ElementType.Name,
    };
}
