namespace PredictionApi.Imaging;

public enum ImageFormat
{
    Png,
    Jpeg,
    Gif,
    Bmp,
    WebP,
}
