using System.Text.Json;

namespace PredictionApi.OpenInference;

/// <summary>
/// Reads the <c>data</c> of a request input: row-major, either flat (one array of every element) or nested as the
/// shape (an array per dimension), as the protocol allows. Either way the element count must be exactly the shape's.
/// </summary>
internal static class TensorData
{
    /// <summary>FP32 elements: JSON numbers that fit a float32.</summary>
    public static float[] ReadFloats(JsonElement data, long[] shape, string where)
    {
        var values = new float[Count(shape)];
        Read(data, shape, where, values.Length, (element, i) =>
        {
            // A number beyond float32's range would become infinity; the model gets what the client sent or nothing.
            if (element.ValueKind != JsonValueKind.Number || !element.TryGetSingle(out var value) || !float.IsFinite(value))
            {
                throw new InvalidInferenceRequestException($"{where}.data element {i} is {Describe(element)}; FP32 data holds numbers within float32's range.");
            }

            values[i] = value;
        });
        return values;
    }

    /// <summary>BYTES elements: JSON strings.</summary>
    public static string[] ReadStrings(JsonElement data, long[] shape, string where)
    {
        var values = new string[Count(shape)];
        Read(data, shape, where, values.Length, (element, i) =>
            values[i] = element.ValueKind == JsonValueKind.String
                ? element.GetString()!
                : throw new InvalidInferenceRequestException($"{where}.data element {i} is {Describe(element)}; BYTES data holds strings."));
        return values;
    }

    /// <summary>The number of elements of <paramref name="shape"/> (validated by the caller to be small).</summary>
    public static int Count(long[] shape) => (int)shape.Aggregate(1L, (product, d) => product * d);

    private static void Read(JsonElement data, long[] shape, string where, int count, Action<JsonElement, int> leaf)
    {
        if (data.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidInferenceRequestException($"{where}.data is {Describe(data)}; it must be an array of the tensor's elements, flat or nested as its shape.");
        }

        var length = data.GetArrayLength();
        if (length > 0 && data[0].ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            ReadNested(data, shape, 0, where, ref index, leaf);
            return;
        }

        if (length != count)
        {
            throw new InvalidInferenceRequestException(
                $"{where}.data holds {length} elements but shape [{string.Join(", ", shape)}] has {count}; send exactly one element per entry of the tensor.");
        }

        var i = 0;
        foreach (var element in data.EnumerateArray())
        {
            leaf(element, i++);
        }
    }

    /// <summary>Nested data: at depth d every array has shape[d] entries, and only the last level holds elements.</summary>
    private static void ReadNested(JsonElement array, long[] shape, int depth, string where, ref int index, Action<JsonElement, int> leaf)
    {
        if (array.ValueKind != JsonValueKind.Array || array.GetArrayLength() != shape[depth])
        {
            var found = array.ValueKind == JsonValueKind.Array ? $"an array of {array.GetArrayLength()}" : Describe(array);
            throw new InvalidInferenceRequestException(
                $"{where}.data is nested, so at depth {depth} it must hold arrays of {shape[depth]} as shape [{string.Join(", ", shape)}] says, but it holds {found}; " +
                "send it nested exactly as the shape, or flat.");
        }

        foreach (var element in array.EnumerateArray())
        {
            if (depth == shape.Length - 1)
            {
                leaf(element, index++);
            }
            else
            {
                ReadNested(element, shape, depth + 1, where, ref index, leaf);
            }
        }
    }

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };
}
