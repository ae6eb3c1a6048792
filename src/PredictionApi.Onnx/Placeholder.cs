namespace PredictionApi.Onnx;
