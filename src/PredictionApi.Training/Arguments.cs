using System.Globalization;

namespace PredictionApi.Training;

/// <summary>Options of the form <c>--name value</c>; unknown or missing options fail with a message naming them.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string> values = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = [];

    public Arguments(IEnumerable<string> args)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            if (!e.Current.StartsWith("--", StringComparison.Ordinal))
                throw new ArgumentException($"Unexpected argument '{e.Current}'; options look like --name value.");
            var name = e.Current[2..];
            if (!e.MoveNext()) throw new ArgumentException($"Option --{name} needs a value.");
            values[name] = e.Current;
        }
    }

    public string Required(string name) =>
        Optional(name) ?? throw new ArgumentException($"Missing required option --{name}.");

    public string? Optional(string name)
    {
        used.Add(name);
        return values.GetValueOrDefault(name);
    }

    public int Int(string name, int fallback) => Parse(name, fallback, s => int.Parse(s, CultureInfo.InvariantCulture));

    public float Float(string name, float fallback) => Parse(name, fallback, s => float.Parse(s, CultureInfo.InvariantCulture));

    /// <summary>Fails on options nobody asked for, so a typo is not silently ignored.</summary>
    public void RejectUnknown()
    {
        var unknown = values.Keys.Where(k => !used.Contains(k)).ToArray();
        if (unknown.Length > 0) throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
    }

    private T Parse<T>(string name, T fallback, Func<string, T> parse)
    {
        var text = Optional(name);
        if (text is null) return fallback;
        try
        {
            return parse(text);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"Option --{name} has the value '{text}', which is not a {typeof(T).Name.ToLowerInvariant()}.");
        }
    }
}
