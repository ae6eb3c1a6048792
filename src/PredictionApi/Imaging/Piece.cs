namespace PredictionApi.Imaging;

/// <summary>
/// One connected piece of ink, as <see cref="EdgeInk"/> measures it: its size, whether it touches the picture's edge,
/// and how far it spans each side within that side's band (the top and bottom bands in x, the left and right in y).
/// </summary>
internal struct Piece(int band)
{
    private int topFirst = int.MaxValue, topLast = -1, bottomFirst = int.MaxValue, bottomLast = -1;
    private int leftFirst = int.MaxValue, leftLast = -1, rightFirst = int.MaxValue, rightLast = -1;

    public long Pixels { get; private set; }

    public bool TouchesEdge { get; private set; }

    public void Add(int x, int y, int width, int height)
    {
        Pixels++;
        TouchesEdge |= x == 0 || y == 0 || x == width - 1 || y == height - 1;
        if (y < band)
        {
            (topFirst, topLast) = (Math.Min(topFirst, x), Math.Max(topLast, x));
        }

        if (y >= height - band)
        {
            (bottomFirst, bottomLast) = (Math.Min(bottomFirst, x), Math.Max(bottomLast, x));
        }

        if (x < band)
        {
            (leftFirst, leftLast) = (Math.Min(leftFirst, y), Math.Max(leftLast, y));
        }

        if (x >= width - band)
        {
            (rightFirst, rightLast) = (Math.Min(rightFirst, y), Math.Max(rightLast, y));
        }
    }

    /// <summary>Whether the piece spans at least <paramref name="share"/> of some side within that side's band.</summary>
    public readonly bool RunsAlongSide(int width, int height, float share) =>
        topLast - topFirst + 1 >= share * width || bottomLast - bottomFirst + 1 >= share * width
        || leftLast - leftFirst + 1 >= share * height || rightLast - rightFirst + 1 >= share * height;
}
