using Npgsql;
using PredictionApi.Problems;

namespace PredictionApi.Predictions;

/// <summary>
/// The statement that commits (a COMMIT, or an INSERT that is its own transaction). If PostgreSQL answers
/// with an error, nothing was committed; but if the connection breaks while the answer is awaited, the
/// commit may have happened or not, and the caller must be told exactly that rather than "nothing was stored".
/// </summary>
public static class CommitStep
{
    private const string UploadUnknown =
        "The connection to the prediction database broke while the service waited for it to confirm the write, so the " +
        "upload may or may not have been stored. Retrying with the same Idempotency-Key header is safe: it returns the stored " +
        "answer if there is one and stores the upload once otherwise. Without a key, look for it first " +
        "(GET /predictions?from=<time of the request>) so that a retry does not store it twice.";

    /// <summary>Runs an upload's commit.</summary>
    public static Task<T> RunAsync<T>(Func<Task<T>> commit) => RunAsync(commit, UploadUnknown);

    /// <summary>Runs a commit that returns nothing (a transaction's COMMIT); <paramref name="unknownDetail"/> as below, an upload's by default.</summary>
    public static Task RunAsync(Func<Task> commit, string unknownDetail = UploadUnknown) =>
        RunAsync(async () => { await commit(); return 0; }, unknownDetail);

    /// <summary>Runs a commit; <paramref name="unknownDetail"/> tells the caller what a broken connection leaves open, and what is safe to do.</summary>
    public static async Task<T> RunAsync<T>(Func<Task<T>> commit, string unknownDetail)
    {
        try
        {
            return await commit();
        }
        catch (NpgsqlException e) when (IsBrokenConnection(e))
        {
            throw new ProblemException(StatusCodes.Status503ServiceUnavailable, "Outcome unknown", unknownDetail, e);
        }
    }

    /// <summary>The connection itself failed (not an error PostgreSQL answered with), so whatever was sent may have run.</summary>
    public static bool IsBrokenConnection(NpgsqlException e) =>
        e is not PostgresException && e.InnerException is IOException or System.Net.Sockets.SocketException or TimeoutException;
}
