using Npgsql;

namespace PredictionApi.Storage.InputStores;

/// <summary>
/// The bytes of an input cannot be stored or read; <see cref="Status"/>, <see cref="Title"/> and the
/// message are safe to show to the caller.
/// </summary>
public sealed class InputStorageException(int status, string title, string detail, Exception? inner = null) : Exception(detail, inner)
{
    public int Status { get; } = status;

    public string Title { get; } = title;
}
