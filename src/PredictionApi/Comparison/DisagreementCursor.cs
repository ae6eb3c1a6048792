using System.Buffers.Binary;

namespace PredictionApi.Comparison;

/// <summary>
/// The opaque keyset cursor of the disagreements of GET /models/compare: the last pair served (input time, input
/// id, and both prediction ids in stored order), plus the fingerprint of the comparison it belongs to. base64url.
/// </summary>
public readonly record struct DisagreementCursor(DateTime CreatedAt, long InputId, long AId, long BId, uint Scope)
{
    private const byte Version = 1;
    private const int Length = 1 + 8 * 4 + 4;

    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], CreatedAt.Ticks);
        BinaryPrimitives.WriteInt64BigEndian(bytes[9..], InputId);
        BinaryPrimitives.WriteInt64BigEndian(bytes[17..], AId);
        BinaryPrimitives.WriteInt64BigEndian(bytes[25..], BId);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[33..], Scope);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string text, out DisagreementCursor cursor)
    {
        cursor = default;
        if (text.Length != 50 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (!Convert.TryFromBase64String(text.Replace('-', '+').Replace('_', '/') + "==", bytes, out var written) || written != Length || bytes[0] != Version)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var (inputId, aId, bId) = (BinaryPrimitives.ReadInt64BigEndian(bytes[9..]), BinaryPrimitives.ReadInt64BigEndian(bytes[17..]), BinaryPrimitives.ReadInt64BigEndian(bytes[25..]));
        if (ticks is < 0 || ticks > DateTime.MaxValue.Ticks || inputId <= 0 || aId <= 0 || bId <= 0)
        {
            return false;
        }

        cursor = new DisagreementCursor(new DateTime(ticks, DateTimeKind.Utc), inputId, aId, bId, BinaryPrimitives.ReadUInt32BigEndian(bytes[33..]));
        return true;
    }
}
