namespace PredictionApi.Training.Network;

/// <summary>
/// SplitMix64 random numbers. Every sample gets its own generator derived from (seed, epoch, index),
/// so augmentation and dropout do not depend on which thread handles the sample or in what order.
/// </summary>
internal struct Rng(ulong state)
{
    private ulong state = state;

    public static Rng For(int seed, int stream, int index) =>
        new(Mix(Mix(Mix((ulong)seed) ^ (ulong)stream) ^ (ulong)index));

    public ulong NextUInt64() => Mix(state += 0x9E3779B97F4A7C15UL);

    /// <summary>Uniform in [0, 1).</summary>
    public float NextFloat() => (NextUInt64() >> 40) * (1f / (1 << 24));

    /// <summary>Uniform in [-1, 1).</summary>
    public float NextSigned() => NextFloat() * 2 - 1;

    public int Next(int exclusiveMax) => (int)((NextUInt64() >> 33) % (ulong)exclusiveMax);

    /// <summary>Standard normal (Box-Muller).</summary>
    public float NextGaussian()
    {
        var u = 1 - NextFloat();
        var v = NextFloat();
        return MathF.Sqrt(-2 * MathF.Log(u)) * MathF.Cos(2 * MathF.PI * v);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
