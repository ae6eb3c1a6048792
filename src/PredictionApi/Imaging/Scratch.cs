using System.Buffers;

namespace PredictionApi.Imaging;

/// <summary>
/// Working arrays for preprocessing. Small ones come from the shared pool, which keeps the request path
/// allocation-free; large ones are plain allocations, because the pool would keep a rare huge upload's
/// buffers (hundreds of megabytes) alive for the life of the process.
/// </summary>
internal static class Scratch<T>
{
    // 1 Mi elements: a megapixel plane, far above what an ordinary upload needs after reduction.
    private const int MaxPooled = 1 << 20;

    public static T[] Rent(int length) =>
        length <= MaxPooled ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    public static void Return(T[] array)
    {
        if (array.Length <= MaxPooled)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
