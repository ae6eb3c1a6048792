namespace PredictionApi.Storage;

/// <summary>
/// The private cluster could not be created, started or stopped; the message says what went wrong and
/// where its log is. An InvalidOperationException, as these failures always were, so callers that
/// already handle those keep working.
/// </summary>
public sealed class PostgresServerException(string message) : InvalidOperationException(message);
