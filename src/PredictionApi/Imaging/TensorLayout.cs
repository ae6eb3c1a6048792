namespace PredictionApi.Imaging;

public enum TensorLayout
{
    NCHW,
    NHWC,
}
