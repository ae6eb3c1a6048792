namespace PredictionApi.Auth;

/// <summary>The names scopes have in the database, on the command line and in problem details: predict, read, feedback, admin.</summary>
public static class ApiScopes
{
    public static IReadOnlyList<ApiScope> All { get; } = Enum.GetValues<ApiScope>();

    public static string Name(this ApiScope scope) => scope.ToString().ToLowerInvariant();

    /// <summary>Parses a comma-separated list such as "predict,read"; false names the first word that is not a scope.</summary>
    public static bool TryParse(string text, out string[] names, out string? unknown)
    {
        var parts = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        names = [];
        unknown = null;
        foreach (var part in parts)
        {
            if (!All.Any(s => s.Name() == part))
            {
                unknown = part;
                return false;
            }
        }

        // In the order of the enum, so listings read the same whatever order they were typed in.
        names = All.Select(Name).Where(parts.Contains).ToArray();
        return names.Length > 0;
    }
}
