using System.Text;
using System.Text.Json;

namespace PredictionApi.Predictions;

/// <summary>
/// An admission refusal's answer, made once at start-up: the problem up to its trace id, and the Open Inference
/// Protocol's error, both 503 "Too busy" with <paramref name="detail"/>.
/// </summary>
internal sealed class AdmissionRefusal(string detail)
{
    public const string Title = "Too busy";

    private const string ProblemType = "https://tools.ietf.org/html/rfc9110#section-15.6.4";

    public static ReadOnlySpan<byte> ProblemAfterTraceId => "\"}"u8;

    public byte[] ProblemBeforeTraceId { get; } = Encoding.UTF8.GetBytes(
        $"{{\"type\":{JsonSerializer.Serialize(ProblemType)},\"title\":{JsonSerializer.Serialize(Title)},\"status\":503," +
        $"\"detail\":{JsonSerializer.Serialize(detail)},\"trace_id\":\"");

    public byte[] InferenceError { get; } = Encoding.UTF8.GetBytes($"{{\"error\":{JsonSerializer.Serialize(detail)}}}");
}
