using PredictionApi.Training.Network;

namespace PredictionApi.Training.Tests;

public sealed class GemmTests
{
    [Theory]
    [InlineData(16, 25, 576)]
    [InlineData(32, 400, 64)]
    [InlineData(5, 7, 37)]   // remainders in every direction
    [InlineData(1, 1, 1)]
    [InlineData(4, 3, 15)]
    public void MatchesNaiveProduct(int m, int k, int n)
    {
        var random = new Random(m * 1000 + k * 10 + n);
        var a = Values(random, m * k);
        var b = Values(random, k * n);
        var initial = Values(random, m * n);

        var product = new float[m * n];
        Gemm.Multiply(a, b, product, m, k, n, accumulate: false);
        var accumulated = (float[])initial.Clone();
        Gemm.Multiply(a, b, accumulated, m, k, n, accumulate: true);

        for (var i = 0; i < m; i++)
        for (var j = 0; j < n; j++)
        {
            var expected = 0.0;
            for (var p = 0; p < k; p++) expected += (double)a[i * k + p] * b[p * n + j];
            Assert.Equal(expected, product[i * n + j], 1e-3);
            Assert.Equal(expected + initial[i * n + j], accumulated[i * n + j], 1e-3);
        }
    }

    [Fact]
    public void TransposeSwapsRowsAndColumns()
    {
        float[] source = [1, 2, 3, 4, 5, 6]; // 2 x 3
        var target = new float[6];
        Gemm.Transpose(source, target, 2, 3);
        Assert.Equal([1f, 4, 2, 5, 3, 6], target);
    }

    private static float[] Values(Random random, int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
}
