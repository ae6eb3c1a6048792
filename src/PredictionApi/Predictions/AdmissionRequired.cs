namespace PredictionApi.Predictions;

/// <summary>Endpoint metadata: the endpoint's requests count against the uploads' admission limit (<see cref="UploadAdmission"/>).</summary>
internal sealed class AdmissionRequired
{
    public static readonly AdmissionRequired Instance = new();

    private AdmissionRequired()
    {
    }
}
