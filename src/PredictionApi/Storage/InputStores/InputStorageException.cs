using PredictionApi.Problems;

namespace PredictionApi.Storage.InputStores;

/// <summary>The bytes of an input cannot be stored or read; status, title and message are safe to show to the caller.</summary>
public sealed class InputStorageException(int status, string title, string detail, Exception? inner = null) : ProblemException(status, title, detail, inner);
