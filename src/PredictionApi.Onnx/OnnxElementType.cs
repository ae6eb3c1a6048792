namespace PredictionApi.Onnx;

/// <summary>Tensor element types this writer supports (values of ONNX <c>TensorProto.DataType</c>).</summary>
public enum OnnxElementType
{
    /// <summary>32-bit IEEE float.</summary>
    Float = 1,

    /// <summary>Unsigned 8-bit integer (declared inputs and outputs only, as image models exported for 0..255 pixels take).</summary>
    UInt8 = 2,

    /// <summary>Signed 64-bit integer (shapes, axes, indices).</summary>
    Int64 = 7,

    /// <summary>64-bit IEEE float (declared inputs and outputs only; initializers are float or int64).</summary>
    Double = 11,
}
