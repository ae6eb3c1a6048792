namespace PredictionApi.Predictions;

/// <summary>File names as clients send them, made safe to store and echo (uploads and the predict command).</summary>
public static class FileNames
{
    /// <summary>Longest file name kept, in UTF-16 code units; longer names are shortened, keeping the extension.</summary>
    public const int MaxFileNameLength = 255;

    // Bidirectional formatting characters: they make "gnp.exe" display as "exe.png".
    private static ReadOnlySpan<char> BidiControls => ['\u061C', '\u200E', '\u200F', '\u202A', '\u202B', '\u202C', '\u202D', '\u202E', '\u2066', '\u2067', '\u2068', '\u2069'];

    /// <summary>
    /// A quoted filename parameter's text: the quotes off (if still on), and the two escapes clients write inside them undone
    /// (\" for a quote, as Go's multipart writer and curl before 7.81 do, and \\ for a backslash). Any other backslash stays,
    /// so an old browser's unescaped "C:\Users\me\digit.png" still reads as a path and keeps only its last segment.
    /// Browsers, curl 7.81 and later and urllib3 2.x send a quote as %22 instead (WHATWG's form encoding); that is kept as
    /// sent, since a file may really be named with "%22" and nothing in the request says which was meant.
    /// </summary>
    public static string Unquote(string value)
    {
        // ASP.NET Core's parser takes the quotes off but leaves the escapes.
        var inner = value.Length >= 2 && value[0] == '"' && value[^1] == '"' ? value[1..^1] : value;
        if (!inner.Contains('\\'))
        {
            return inner;
        }

        var text = new System.Text.StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            text.Append(inner[i] == '\\' && i + 1 < inner.Length && inner[i + 1] is '"' or '\\' ? inner[++i] : inner[i]);
        }

        return text.ToString();
    }

    /// <summary>
    /// The name to store and echo for a client's file name: its last path segment, without control or
    /// bidirectional formatting characters and unpaired surrogates (PostgreSQL text cannot hold NUL, and
    /// lone surrogates are not text), at most <see cref="MaxFileNameLength"/> characters, and "upload"
    /// when nothing is left. The name is data, never a path, but whoever exports it later gets a plain name.
    /// </summary>
    public static string Clean(string? fileName)
    {
        var name = fileName ?? "";
        name = name[(name.LastIndexOfAny(['/', '\\']) + 1)..];
        var clean = new System.Text.StringBuilder(Math.Min(name.Length, MaxFileNameLength + 2));
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsHighSurrogate(c) && i + 1 < name.Length && char.IsLowSurrogate(name[i + 1]))
            {
                clean.Append(c).Append(name[++i]);
            }
            else if (!char.IsControl(c) && !char.IsSurrogate(c) && !BidiControls.Contains(c))
            {
                clean.Append(c);
            }
        }

        name = clean.ToString().Trim();
        if (name.Length > MaxFileNameLength)
        {
            // Keep a short extension, and never cut a surrogate pair in two.
            var dot = name.LastIndexOf('.');
            var extension = dot > 0 && name.Length - dot <= 16 ? name[dot..] : "";
            var keep = MaxFileNameLength - extension.Length;
            if (char.IsHighSurrogate(name[keep - 1]))
            {
                keep--;
            }

            name = name[..keep] + extension;
        }

        return name is "" or "." or ".." ? "upload" : name;
    }
}
