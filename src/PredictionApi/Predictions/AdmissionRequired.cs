namespace PredictionApi.Predictions;

/// <summary>
/// Endpoint metadata: the endpoint's requests count against the uploads' admission limits (<see cref="UploadAdmission"/>).
/// <see cref="LargestBody"/> is the most the endpoint reads of a body, which a body of unknown length (chunked) is counted as.
/// </summary>
internal sealed class AdmissionRequired(Func<IServiceProvider, long> largestBody)
{
    public Func<IServiceProvider, long> LargestBody { get; } = largestBody;
}
