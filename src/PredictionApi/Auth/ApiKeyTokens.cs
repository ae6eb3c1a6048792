using System.Security.Cryptography;
using System.Text;

namespace PredictionApi.Auth;

/// <summary>
/// The keys themselves: 256 random bits, base64url, with a prefix that secret scanners can spot. Only
/// their SHA-256 is stored; a key has the full entropy of its random part, so a fast unsalted hash
/// is as strong as a slow one here (there is no password to guess).
/// </summary>
public static class ApiKeyTokens
{
    public const string Prefix = "pak_";

    public static string New() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    private const string Bearer = "Bearer";

    /// <summary>The key a request presents: <c>Authorization: Bearer &lt;key&gt;</c>, or <c>X-API-Key: &lt;key&gt;</c>.</summary>
    public static string? Read(HttpRequest request)
    {
        var authorization = request.Headers.Authorization.ToString();
        // The scheme is case-insensitive; a tab after it (strictly, only a space) still plainly means a bearer key.
        if (authorization.Length > Bearer.Length && authorization.StartsWith(Bearer, StringComparison.OrdinalIgnoreCase)
            && authorization[Bearer.Length] is ' ' or '\t')
        {
            var token = authorization[Bearer.Length..].Trim();
            return token.Length > 0 ? token : null;
        }

        var header = request.Headers["X-API-Key"].ToString().Trim();
        return header.Length > 0 ? header : null;
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
