using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace PredictionApi.Predictions;

/// <summary>
/// The opaque keyset cursor of GET /predictions: the (created_at, id) of the last row served, plus a
/// fingerprint of the filters it was issued for, so a cursor replayed with other filters is refused
/// rather than silently skipping or repeating rows. Encoded as base64url.
/// </summary>
public readonly record struct PredictionCursor(DateTime CreatedAt, long Id, uint Filters)
{
    private const byte Version = 1;
    private const int Length = 1 + 8 + 8 + 4;

    public string Encode()
    {
        Span<byte> bytes = stackalloc byte[Length];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes[1..], CreatedAt.Ticks);
        BinaryPrimitives.WriteInt64BigEndian(bytes[9..], Id);
        BinaryPrimitives.WriteUInt32BigEndian(bytes[17..], Filters);
        return Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    public static bool TryDecode(string text, out PredictionCursor cursor)
    {
        cursor = default;
        if (text.Length != 28 || text.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Length];
        if (!Convert.TryFromBase64String(text.Replace('-', '+').Replace('_', '/'), bytes, out var written) || written != Length || bytes[0] != Version)
        {
            return false;
        }

        var ticks = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var id = BinaryPrimitives.ReadInt64BigEndian(bytes[9..]);
        if (ticks is < 0 || ticks > DateTime.MaxValue.Ticks || id <= 0)
        {
            return false;
        }

        cursor = new PredictionCursor(new DateTime(ticks, DateTimeKind.Utc), id, BinaryPrimitives.ReadUInt32BigEndian(bytes[17..]));
        return true;
    }

    /// <summary>A fingerprint of the filter values, stable across processes and restarts.</summary>
    public static uint Fingerprint(params object?[] filters)
    {
        var text = string.Join('\u001f', filters.Select(f => f switch
        {
            null => "\u0000",
            IFormattable formattable => formattable.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
            _ => f.ToString(),
        }));
        return BinaryPrimitives.ReadUInt32BigEndian(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }
}
