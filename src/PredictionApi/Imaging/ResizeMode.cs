namespace PredictionApi.Imaging;

public enum ResizeMode
{
    Stretch,
    Fit,
    Crop,
}
