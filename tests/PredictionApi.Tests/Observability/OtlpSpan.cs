namespace PredictionApi.Tests.Observability;

/// <summary>
/// One span of an OTLP export (ExportTraceServiceRequest in protobuf), with the fields the tests check: ids as
/// lowercase hex, as they appear in a traceparent. Read with the protobuf wire format alone: resource_spans (1)
/// hold scope_spans (2), which hold spans (2), whose trace_id is 1, span_id 2, parent_span_id 4 and name 5.
/// </summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name)
{
    public static IEnumerable<OtlpSpan> ReadExport(byte[] export) =>
        from resourceSpans in Fields(export, 1)
        from scopeSpans in Fields(resourceSpans, 2)
        from span in Fields(scopeSpans, 2)
        select new OtlpSpan(
            Hex(Fields(span, 1).FirstOrDefault()),
            Hex(Fields(span, 2).FirstOrDefault()),
            Hex(Fields(span, 4).FirstOrDefault()),
            System.Text.Encoding.UTF8.GetString(Fields(span, 5).FirstOrDefault() ?? []));

    private static string Hex(byte[]? bytes) => bytes is null ? "" : Convert.ToHexStringLower(bytes);

    /// <summary>The length-delimited fields numbered <paramref name="number"/> of a message; the others are skipped.</summary>
    private static IEnumerable<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var at = 0;
        while (at < message.Length)
        {
            var tag = Varint(message, ref at);
            switch (tag & 7)
            {
                case 0:
                    Varint(message, ref at);
                    break;
                case 1:
                    at += 8;
                    break;
                case 5:
                    at += 4;
                    break;
                case 2:
                    var length = (int)Varint(message, ref at);
                    if ((int)(tag >> 3) == number)
                    {
                        found.Add(message[at..(at + length)]);
                    }

                    at += length;
                    break;
                default:
                    throw new InvalidDataException($"Wire type {tag & 7} is not in OTLP's messages.");
            }
        }

        return found;
    }

    private static ulong Varint(byte[] message, ref int at)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[at++];
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80)
            {
                return value;
            }
        }
    }
}
