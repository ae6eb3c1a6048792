using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace PredictionApi.Training.Network;

/// <summary>
/// Single-precision matrix multiply C = A * B (optionally C += A * B), all row-major.
/// A 4-row by 2-vector register block keeps eight accumulators in registers while streaming B,
/// which is the whole cost of the convolutions after im2col.
/// </summary>
internal static class Gemm
{
    public static void Multiply(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int m, int k, int n, bool accumulate)
    {
        if (a.Length < m * k || b.Length < k * n || c.Length < m * n)
            throw new ArgumentException($"Buffers too small for a {m}x{k} by {k}x{n} product.");
        if (!accumulate) c[..(m * n)].Clear();

        ref var a0 = ref MemoryMarshal.GetReference(a);
        ref var b0 = ref MemoryMarshal.GetReference(b);
        ref var c0 = ref MemoryMarshal.GetReference(c);
        var w = Vector<float>.Count;
        var i = 0;
        for (; i + 4 <= m; i += 4)
        {
            var j = 0;
            for (; j + 2 * w <= n; j += 2 * w) Block4x2(ref a0, ref b0, ref c0, i, j, k, n);
            for (; j < n; j++)
            {
                for (var r = i; r < i + 4; r++) Unsafe.Add(ref c0, r * n + j) += Dot(ref a0, ref b0, r, j, k, n);
            }
        }
        for (; i < m; i++)
        {
            for (var j = 0; j < n; j++) Unsafe.Add(ref c0, i * n + j) += Dot(ref a0, ref b0, i, j, k, n);
        }
    }

    /// <summary>Writes the transpose of the rows x columns matrix <paramref name="source"/> into <paramref name="target"/>.</summary>
    public static void Transpose(ReadOnlySpan<float> source, Span<float> target, int rows, int columns)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = source.Slice(r * columns, columns);
            for (var c = 0; c < columns; c++) target[c * rows + r] = row[c];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x2(ref float a, ref float b, ref float c, int i, int j, int k, int n)
    {
        var w = Vector<float>.Count;
        ref var c0 = ref Unsafe.Add(ref c, i * n + j);
        ref var c1 = ref Unsafe.Add(ref c0, n);
        ref var c2 = ref Unsafe.Add(ref c1, n);
        ref var c3 = ref Unsafe.Add(ref c2, n);
        var s00 = Vector.LoadUnsafe(ref c0); var s01 = Vector.LoadUnsafe(ref c0, (nuint)w);
        var s10 = Vector.LoadUnsafe(ref c1); var s11 = Vector.LoadUnsafe(ref c1, (nuint)w);
        var s20 = Vector.LoadUnsafe(ref c2); var s21 = Vector.LoadUnsafe(ref c2, (nuint)w);
        var s30 = Vector.LoadUnsafe(ref c3); var s31 = Vector.LoadUnsafe(ref c3, (nuint)w);
        ref var ar = ref Unsafe.Add(ref a, i * k);
        for (var p = 0; p < k; p++)
        {
            ref var br = ref Unsafe.Add(ref b, p * n + j);
            var b0 = Vector.LoadUnsafe(ref br);
            var b1 = Vector.LoadUnsafe(ref br, (nuint)w);
            var x = new Vector<float>(Unsafe.Add(ref ar, p));
            s00 = Vector.FusedMultiplyAdd(x, b0, s00); s01 = Vector.FusedMultiplyAdd(x, b1, s01);
            x = new Vector<float>(Unsafe.Add(ref ar, k + p));
            s10 = Vector.FusedMultiplyAdd(x, b0, s10); s11 = Vector.FusedMultiplyAdd(x, b1, s11);
            x = new Vector<float>(Unsafe.Add(ref ar, 2 * k + p));
            s20 = Vector.FusedMultiplyAdd(x, b0, s20); s21 = Vector.FusedMultiplyAdd(x, b1, s21);
            x = new Vector<float>(Unsafe.Add(ref ar, 3 * k + p));
            s30 = Vector.FusedMultiplyAdd(x, b0, s30); s31 = Vector.FusedMultiplyAdd(x, b1, s31);
        }
        s00.StoreUnsafe(ref c0); s01.StoreUnsafe(ref c0, (nuint)w);
        s10.StoreUnsafe(ref c1); s11.StoreUnsafe(ref c1, (nuint)w);
        s20.StoreUnsafe(ref c2); s21.StoreUnsafe(ref c2, (nuint)w);
        s30.StoreUnsafe(ref c3); s31.StoreUnsafe(ref c3, (nuint)w);
    }

    private static float Dot(ref float a, ref float b, int i, int j, int k, int n)
    {
        var sum = 0f;
        for (var p = 0; p < k; p++) sum = MathF.FusedMultiplyAdd(Unsafe.Add(ref a, i * k + p), Unsafe.Add(ref b, p * n + j), sum);
        return sum;
    }
}
