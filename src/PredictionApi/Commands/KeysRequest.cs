namespace PredictionApi.Commands;

/// <summary>What a keys command line asks for: the verb (create, list, revoke) and create's options.</summary>
internal sealed record KeysRequest(string Verb, string? Name, string[] Scopes, TimeSpan? ExpiresIn, int? RequestsPerMinute);
