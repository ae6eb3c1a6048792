namespace PredictionApi.Problems;

/// <summary>
/// Endpoints that store, delete or change what is served refuse a query parameter they do not read. Ignoring it would
/// act on a guess: a misspelt ?modle=fashion stores the default model's prediction, ?max_confidnce=0.5 on a retention
/// delete deletes every prediction before the time instead of only the unsure ones, and ?verison=2 on an unload unloads
/// every version. Names compare without case, as binding does.
/// </summary>
internal static class QueryParameters
{
    public static RouteHandlerBuilder AcceptsOnlyQuery(this RouteHandlerBuilder builder, params string[] names) =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var request = context.HttpContext.Request;
            foreach (var (name, _) in request.Query)
            {
                if (!names.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    var shown = name.Length > 100 ? name[..100] + "..." : name;
                    return ApiProblems.BadRequest(
                        $"'{shown}' is not a parameter of {request.Method} {request.Path}, so nothing was done; it takes {string.Join(", ", names)}.",
                        "Unknown parameter");
                }
            }

            return await next(context);
        });
}
