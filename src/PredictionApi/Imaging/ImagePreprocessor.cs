using Microsoft.Extensions.Options;
using PredictionApi.Observability;
using SkiaSharp;


namespace PredictionApi.Imaging;

/// <summary>
/// Turns uploaded bytes into the model's input tensor: identify the format by its bytes, check the
/// declared size against the pixel cap before decoding, decode (first frame, EXIF orientation applied),
/// composite transparency on the manifest background, convert to grayscale or RGB, apply the
/// preprocessing profile or resize, then scale pixels and lay them out as NCHW or NHWC.
/// </summary>
public sealed class ImagePreprocessor(IOptions<ImagingOptions> options)
{
    private readonly long _maxPixels = options.Value.MaxPixels;

    /// <summary>Shared by every request: the singleton preprocessor bounds the decoded pixels of the whole process.</summary>
    internal DecodeBudget Budget { get; } = new(options.Value.MaxDecodingPixels, TimeSpan.FromSeconds(options.Value.DecodeWaitSeconds));

    /// <summary>
    /// Fills <paramref name="tensor"/> (length <see cref="InputSpec.TensorLength"/>) and returns what the
    /// header said; throws <see cref="ImageRejectedException"/> for anything that is not a usable image.
    /// </summary>
    public ImageHeader Preprocess(ReadOnlySpan<byte> data, InputSpec spec, Span<float> tensor)
    {
        var header = Inspect(data);
        using var skData = DecoderInput(header.Format, data);
        using var codec = SKCodec.Create(skData)
            ?? throw Corrupt(header.Format, "the decoder does not recognise its structure");
        if ((long)codec.Info.Width * codec.Info.Height > _maxPixels)
        {
            throw TooManyPixels(codec.Info.Width, codec.Info.Height);
        }

        var size = DecodeSize(codec, spec);
        var origin = codec.EncodedOrigin;
        var swap = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (width, height) = swap ? (size.Height, size.Width) : (size.Width, size.Height);
        var channels = spec.Channels;
        var factor = ReductionFactor(width, height, spec);
        var (planeW, planeH) = ((width + factor - 1) / factor, (height + factor - 1) / factor);
        var planes = Scratch<float>.Rent(channels * planeW * planeH);
        try
        {
            // The decoded bitmap is the large allocation; it lives only while holding its share of the budget.
            var share = Budget.Acquire((long)size.Width * size.Height);
            try
            {
                using (ServiceMetrics.Tracing.StartActivity("decode"))
                {
                    using var bitmap = Decode(codec, size, header.Format);
                    ToPlanes(bitmap, origin, width, height, factor, spec.Background, channels, planes);
                }
            }
            finally
            {
                Budget.Release(share);
            }

            Shape(planes, planeW, planeH, spec, tensor);
        }
        finally
        {
            Scratch<float>.Return(planes);
        }

        return header;
    }

    /// <summary>
    /// The bytes the decoder gets, after the checks it does not make itself: a PNG without the chunks that
    /// cannot change its pixels (the decoder's cost for them grows faster than their size), a JPEG only when
    /// its scan data is complete and intact.
    /// </summary>
    private static SKData DecoderInput(ImageFormat format, ReadOnlySpan<byte> data)
    {
        switch (format)
        {
            case ImageFormat.Png:
                return PngChunks.Essential(data);
            case ImageFormat.Jpeg when JpegScan.Check(data):
                // Every block is there; only the closing marker is missing. The decoder gets it, as libjpeg's own tools
                // supply it with a warning, instead of calling the complete image incomplete.
                return SKData.CreateCopy((byte[])[.. data, 0xFF, 0xD9]);
        }

        return SKData.CreateCopy(data);
    }

    private static SKBitmap Decode(SKCodec codec, SKSizeI size, ImageFormat format)
    {
        var info = new SKImageInfo(size.Width, size.Height, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var bitmap = new SKBitmap(info);
        if (bitmap.GetPixels() == IntPtr.Zero)
        {
            bitmap.Dispose();
            throw new ImageRejectedException(StatusCodes.Status400BadRequest, "Image too large",
                $"There is not enough memory to decode a {size.Width}x{size.Height} image right now.");
        }

        var result = codec.GetPixels(info, bitmap.GetPixels());
        if (result != SKCodecResult.Success)
        {
            bitmap.Dispose();
            // The decoder says "incomplete" both for data that ends early and for compressed data it cannot follow.
            throw Corrupt(format, result == SKCodecResult.IncompleteInput
                ? "its pixel data stops before the image is complete (the file is truncated or its compressed data is damaged)"
                : "its pixel data cannot be decoded");
        }

        return bitmap;
    }

    /// <summary>
    /// Whether <paramref name="data"/> declares an image whose decode is long work: over 256x256 pixels, which take
    /// milliseconds (a 790x790 PNG about 40), where a digit's take microseconds. Sixty-four uploads of half a megapixel,
    /// still small for the decoding budget, held the pool's threads for three seconds. Bytes without a readable header
    /// are not large.
    /// </summary>
    public bool IsLarge(ReadOnlySpan<byte> data) =>
        ImageHeader.Sniff(data) is { } format && ImageHeader.Read(format, data) is { } header && header.Pixels > LongDecodePixels;

    private const long LongDecodePixels = 256 * 256;

    /// <summary>Format and declared dimensions, or the reason the bytes are refused, without decoding.</summary>
    public ImageHeader Inspect(ReadOnlySpan<byte> data)
    {
        var format = ImageHeader.Sniff(data) ?? throw new ImageRejectedException(StatusCodes.Status415UnsupportedMediaType, "Not an image",
            "The file is not an image this service reads. Send a PNG, JPEG, GIF, BMP or WebP; the format is recognised from the file's bytes, not from its name or declared type.");
        var header = ImageHeader.Read(format, data) ?? throw Corrupt(format, "its header is truncated or malformed");
        if (format == ImageFormat.Bmp)
        {
            BmpPalette.Check(data);
        }

        if (header.Pixels > _maxPixels)
        {
            throw TooManyPixels(header.Width, header.Height);
        }

        return header;
    }

    private ImageRejectedException TooManyPixels(int width, int height) =>
        new(StatusCodes.Status400BadRequest, "Image too large",
            $"The image declares {width}x{height} pixels ({Amount((double)width * height)}); the limit is {Amount(_maxPixels)}. Scale it down and retry.");

    /// <summary>Megapixels to one decimal, or the exact count when that would read "0 megapixels" (a small configured limit).</summary>
    private static string Amount(double pixels) => pixels >= 100_000
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pixels / 1e6:0.#} megapixels")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{pixels:0} pixels");

    private static ImageRejectedException Corrupt(ImageFormat format, string why) => ImageRejectedException.Corrupt(format, why);

    /// <summary>
    /// Large JPEG, WebP and GIF images can be decoded at a fraction of their size; ask for that when the
    /// model needs far fewer pixels (a generous margin keeps thin strokes and anti-aliasing intact).
    /// </summary>
    private static SKSizeI DecodeSize(SKCodec codec, InputSpec spec)
    {
        var full = codec.Info.Size;
        var wanted = spec.Profile != PreprocessProfile.None
            ? 8f * MnistProfile.Size / Math.Min(full.Width, full.Height)
            : Math.Max(4f * spec.Width / full.Width, 4f * spec.Height / full.Height);
        if (wanted >= 0.5f)
        {
            return full;
        }

        var scaled = codec.GetScaledDimensions(wanted);
        return scaled.Width > 0 && scaled.Height > 0 && scaled.Width <= full.Width ? scaled : full;
    }

    /// <summary>
    /// How many pixels (per side) the decoded image is box-averaged by before preprocessing: enough to
    /// bring it near <see cref="MaxWorkingPixels"/>, but never below the detail the model needs (the margins
    /// of <see cref="DecodeSize"/>). The working planes of a small PNG declaring megapixels by the dozen then take megabytes, not gigabytes.
    /// </summary>
    internal static int ReductionFactor(int width, int height, InputSpec spec)
    {
        var area = (long)width * height;
        if (area <= MaxWorkingPixels)
        {
            return 1;
        }

        var byArea = (int)Math.Ceiling(Math.Sqrt((double)area / MaxWorkingPixels));
        // The mnist and fashion profiles fit the object's longer side into 20 or 28 pixels, so the longer side sets the margin.
        var byMargin = spec.Profile != PreprocessProfile.None
            ? Math.Max(width, height) / (8 * MnistProfile.Size)
            : Math.Min(width / (4 * spec.Width), height / (4 * spec.Height));
        return Math.Max(1, Math.Min(byArea, byMargin));
    }

    // About a megapixel: more than any model input needs, little enough to keep a request's memory small.
    private const long MaxWorkingPixels = 1 << 20;

    /// <summary>
    /// RGBA bytes to float planes (0..255) in display orientation: alpha composited on the background,
    /// grayscale by Rec. 601 luminance when the model takes one channel, and each <paramref name="factor"/>
    /// x <paramref name="factor"/> block averaged into one pixel (edge blocks over the pixels they have).
    /// The planes are ceil(width / factor) x ceil(height / factor).
    /// </summary>
    private static void ToPlanes(SKBitmap bitmap, SKEncodedOrigin origin, int width, int height, int factor, Rgb background, int channels, Span<float> planes)
    {
        var pixels = bitmap.GetPixelSpan();
        var rowBytes = bitmap.RowBytes;
        var (srcW, srcH) = (bitmap.Width, bitmap.Height);
        var (planeW, planeH) = ((width + factor - 1) / factor, (height + factor - 1) / factor);
        var area = planeW * planeH;
        planes[..(channels * area)].Clear();
        for (var y = 0; y < height; y++)
        {
            // Each display row is a straight line through the stored pixels: a start and a step per pixel.
            var (start, step) = origin switch
            {
                SKEncodedOrigin.TopRight => (y * rowBytes + (srcW - 1) * 4, -4),
                SKEncodedOrigin.BottomRight => ((srcH - 1 - y) * rowBytes + (srcW - 1) * 4, -4),
                SKEncodedOrigin.BottomLeft => ((srcH - 1 - y) * rowBytes, 4),
                SKEncodedOrigin.LeftTop => (y * 4, rowBytes),
                SKEncodedOrigin.RightTop => ((srcH - 1) * rowBytes + y * 4, -rowBytes),
                SKEncodedOrigin.RightBottom => ((srcH - 1) * rowBytes + (srcW - 1 - y) * 4, -rowBytes),
                SKEncodedOrigin.LeftBottom => ((srcW - 1 - y) * 4, rowBytes),
                _ => (y * rowBytes, 4),
            };
            var i = y / factor * planeW;
            var inBlock = 0;
            for (var x = 0; x < width; x++, start += step)
            {
                var p = pixels.Slice(start, 4);
                float r = p[0], g = p[1], b = p[2];
                var a = p[3];
                if (a != 255)
                {
                    // Unpremultiplied over the background; opaque pixels skip this and stay exact integers.
                    var inv = 255 - a;
                    r = (r * a + background.R * inv) / 255f;
                    g = (g * a + background.G * inv) / 255f;
                    b = (b * a + background.B * inv) / 255f;
                }

                if (channels == 1)
                {
                    // Integer weights keep gray input exact: (299v + 587v + 114v) / 1000 == v.
                    planes[i] += (299 * r + 587 * g + 114 * b) / 1000f;
                }
                else
                {
                    planes[i] += r;
                    planes[area + i] += g;
                    planes[2 * area + i] += b;
                }

                if (++inBlock == factor)
                {
                    (inBlock, i) = (0, i + 1);
                }
            }
        }

        if (factor == 1)
        {
            return;
        }

        for (var by = 0; by < planeH; by++)
        {
            var rows = Math.Min(factor, height - by * factor);
            for (var bx = 0; bx < planeW; bx++)
            {
                float count = rows * Math.Min(factor, width - bx * factor);
                for (var ch = 0; ch < channels; ch++)
                {
                    planes[ch * area + by * planeW + bx] /= count;
                }
            }
        }
    }

    /// <summary>Profile or resize to the model's height and width, then scale and lay out into the tensor.</summary>
    private static void Shape(float[] planes, int width, int height, InputSpec spec, Span<float> tensor)
    {
        var (w, h, c) = (spec.Width, spec.Height, spec.Channels);
        var sized = Scratch<float>.Rent(c * w * h);
        try
        {
            var area = w * h;
            for (var ch = 0; ch < c; ch++)
            {
                var src = planes.AsSpan(ch * width * height, width * height);
                var dst = sized.AsSpan(ch * area, area);
                if (spec.Profile == PreprocessProfile.Mnist)
                {
                    MnistProfile.Apply(src, width, height, dst);
                }
                else if (spec.Profile == PreprocessProfile.Fashion)
                {
                    FashionProfile.Apply(src, width, height, dst);
                }
                else
                {
                    Resize(src, width, height, spec, BackgroundLevel(spec, ch), dst);
                }
            }

            WriteTensor(sized.AsSpan(0, c * area), spec, tensor);
        }
        finally
        {
            Scratch<float>.Return(sized);
        }
    }

    private static float BackgroundLevel(InputSpec spec, int channel)
    {
        var bg = spec.Background;
        return spec.Channels == 1 ? (299f * bg.R + 587f * bg.G + 114f * bg.B) / 1000f : channel switch { 0 => bg.R, 1 => bg.G, _ => bg.B };
    }

    private static void Resize(ReadOnlySpan<float> src, int width, int height, InputSpec spec, float background, Span<float> dst)
    {
        var (w, h) = (spec.Width, spec.Height);
        switch (spec.Resize)
        {
            case ResizeMode.Fit:
            {
                // Whole image, aspect kept, centred on the background colour.
                var scale = Math.Min((float)w / width, (float)h / height);
                var fitW = Math.Clamp((int)MathF.Round(width * scale), 1, w);
                var fitH = Math.Clamp((int)MathF.Round(height * scale), 1, h);
                var fitted = Scratch<float>.Rent(fitW * fitH);
                Resampler.Resize(src, width, height, 0, 0, width, height, fitted, fitW, fitH);
                dst.Fill(background);
                var (left, top) = ((w - fitW) / 2, (h - fitH) / 2);
                for (var y = 0; y < fitH; y++)
                {
                    fitted.AsSpan(y * fitW, fitW).CopyTo(dst.Slice((top + y) * w + left, fitW));
                }

                Scratch<float>.Return(fitted);
                break;
            }

            case ResizeMode.Crop:
            {
                // Fill the target, aspect kept, centre cut out.
                var scale = Math.Max((float)w / width, (float)h / height);
                var (cropW, cropH) = (w / scale, h / scale);
                Resampler.Resize(src, width, height, (width - cropW) / 2, (height - cropH) / 2, cropW, cropH, dst, w, h);
                break;
            }

            default:
                Resampler.Resize(src, width, height, 0, 0, width, height, dst, w, h);
                break;
        }
    }

    /// <summary>Scales 0..255 planes per the manifest and writes them in the model's layout and channel order.</summary>
    internal static void WriteTensor(ReadOnlySpan<float> planes, InputSpec spec, Span<float> tensor)
    {
        var c = spec.Channels;
        var area = spec.Width * spec.Height;
        for (var ch = 0; ch < c; ch++)
        {
            var source = planes.Slice((spec.Bgr && c == 3 ? 2 - ch : ch) * area, area);
            var (mean, std) = spec.Scaling == PixelScaling.Standard ? (spec.Mean[ch], spec.Std[ch]) : (0f, 1f);
            for (var i = 0; i < area; i++)
            {
                // Averaging hundreds of pixels in float can overshoot 255 by a few ulps; the model's range is exact.
                var pixel = Math.Clamp(source[i], 0f, 255f);
                var v = spec.Scaling switch
                {
                    PixelScaling.Raw => pixel,
                    PixelScaling.Standard => (pixel / 255f - mean) / std,
                    _ => pixel / 255f,
                };
                tensor[spec.Layout == TensorLayout.NCHW ? ch * area + i : i * c + ch] = v;
            }
        }
    }
}
