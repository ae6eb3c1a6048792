using System.Threading.Channels;
using Microsoft.Extensions.Options;
using Npgsql;
using PredictionApi.Imaging;
using PredictionApi.Inference;
using PredictionApi.Observability;

namespace PredictionApi.Predictions;

/// <summary>
/// Shadow models: after an upload is stored and answered, its input is classified by each shadow of the model that
/// answered it, and stored as another prediction of the same input (shadow = true). One background worker does it, so
/// shadows share the machine with requests but never add to a response's latency, and a shadow that fails (not
/// loaded, cannot read the image, database error) fails only its own prediction. The queue is bounded
/// (Model:ShadowQueue): when it is full, shadow work is dropped and counted rather than slowing requests.
/// </summary>
public sealed class ShadowQueue : BackgroundService
{
    private const int MaxGroup = 64;

    private readonly Channel<ShadowWork> _queue;
    private readonly ModelRegistry _models;
    private readonly PredictionWriter _writer;
    private readonly ServiceMetrics _metrics;
    private readonly ILogger<ShadowQueue> _logger;

    public ShadowQueue(ModelRegistry models, PredictionWriter writer, ServiceMetrics metrics, IOptions<ModelOptions> options, ILogger<ShadowQueue> logger)
    {
        _models = models;
        _writer = writer;
        _metrics = metrics;
        _logger = logger;
        _queue = Channel.CreateBounded<ShadowWork>(new BoundedChannelOptions(options.Value.ShadowQueue) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    }

    /// <summary>Inputs waiting for their shadows.</summary>
    public int Count => _queue.Reader.Count;

    /// <summary>
    /// Queues the stored inputs <paramref name="items"/>, answered by <paramref name="answered"/>, for its shadows (if it
    /// has any); their predictions record <paramref name="createdBy"/>, the key of the request, as the answer's did.
    /// </summary>
    public void Enqueue(ModelSpec answered, IReadOnlyList<(long InputId, ReadOnlyMemory<byte> Bytes)> items, string? createdBy)
    {
        var shadows = _models.ShadowsOf(answered);
        if (shadows.Count == 0)
        {
            return;
        }

        foreach (var (inputId, bytes) in items)
        {
            if (!_queue.Writer.TryWrite(new ShadowWork(inputId, bytes, shadows, createdBy)))
            {
                foreach (var shadow in shadows)
                {
                    _metrics.Shadow.Add(1, new("model", shadow.Name), new("outcome", "dropped"));
                }
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var group = new List<ShadowWork>(MaxGroup);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                group.Clear();
                while (group.Count < MaxGroup && _queue.Reader.TryRead(out var work))
                {
                    group.Add(work);
                }

                await RunAsync(group, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: queued shadow work is not kept (the answered predictions are).
        }
    }

    private async Task RunAsync(List<ShadowWork> group, CancellationToken cancellationToken)
    {
        var predictions = new List<(long InputId, NewPrediction Prediction)>();
        foreach (var shadow in group.SelectMany(w => w.Shadows).Distinct())
        {
            ModelLease lease;
            try
            {
                lease = _models.Acquire(shadow.Name, shadow.Version);
            }
            catch (ModelUnavailableException e)
            {
                var count = group.Count(w => w.Shadows.Contains(shadow));
                _metrics.Shadow.Add(count, new("model", shadow.Name), new("outcome", "failed"));
                _logger.LogDebug("Shadow {Shadow} skipped for {Count} inputs: {Reason}", shadow, count, e.Message);
                continue;
            }

            using (lease)
            {
                foreach (var work in group.Where(w => w.Shadows.Contains(shadow)))
                {
                    try
                    {
                        predictions.Add((work.InputId, NewPrediction.Of(await lease.Predictor.PredictAsync(work.Bytes), lease.Spec) with { CreatedBy = work.CreatedBy }));
                    }
                    catch (ImageRejectedException)
                    {
                        // The shadow cannot read what the answering model could (another input shape, a decode limit).
                        _metrics.Shadow.Add(1, new("model", shadow.Name), new("outcome", "failed"));
                    }
                }
            }
        }

        if (predictions.Count == 0)
        {
            return;
        }

        try
        {
            await _writer.RecordShadowsAsync(predictions, cancellationToken);
            foreach (var model in predictions.GroupBy(p => p.Prediction.ModelName))
            {
                _metrics.Shadow.Add(model.Count(), new("model", model.Key), new("outcome", "stored"));
            }
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            _logger.LogWarning("{Count} shadow predictions were not stored: {Reason}", predictions.Count, e.Message);
            foreach (var model in predictions.GroupBy(p => p.Prediction.ModelName))
            {
                _metrics.Shadow.Add(model.Count(), new("model", model.Key), new("outcome", "failed"));
            }
        }
    }
}
