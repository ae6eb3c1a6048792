namespace PredictionApi.Imaging;

/// <summary>
/// One pixel of the ring along a picture's edges, as <see cref="Ground"/> fits it: its offset from the picture's
/// centre, its value, and the cell of the ring it lies in.
/// </summary>
internal readonly record struct RingSample(float Dx, float Dy, float Value, int Cell);
