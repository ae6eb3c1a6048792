namespace PredictionApi.Inference;

/// <summary>
/// One loaded version of a model: its ONNX Runtime session and the predictor over it. Requests hold it through a
/// <see cref="ModelLease"/>; once retired (swapped out or unloaded) it takes no new requests, and its session is
/// closed when the last request in flight lets go, so a swap never fails a request that already started.
/// </summary>
public sealed class LoadedModel
{
    private int _users;
    private int _retired;
    private int _disposed;

    public LoadedModel(ImageClassifier classifier, ImagePredictor predictor, DateTimeOffset loadedAt)
    {
        Classifier = classifier;
        Predictor = predictor;
        LoadedAt = loadedAt;
    }

    public ImageClassifier Classifier { get; }

    public ImagePredictor Predictor { get; }

    public ModelSpec Spec => Classifier.Spec;

    public DateTimeOffset LoadedAt { get; }

    public bool Retired => Volatile.Read(ref _retired) == 1;

    /// <summary>Takes a use of the session; false once the model is retired.</summary>
    internal bool TryEnter()
    {
        Interlocked.Increment(ref _users);
        if (Volatile.Read(ref _retired) == 1)
        {
            Exit();
            return false;
        }

        return true;
    }

    internal void Exit()
    {
        if (Interlocked.Decrement(ref _users) == 0 && Volatile.Read(ref _retired) == 1)
        {
            Close();
        }
    }

    /// <summary>Takes no new uses; the session closes now, or when the last use in flight ends.</summary>
    internal void Retire()
    {
        Interlocked.Exchange(ref _retired, 1);
        if (Volatile.Read(ref _users) == 0)
        {
            Close();
        }
    }

    private void Close()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Classifier.Dispose();
        }
    }
}
