using System.Buffers.Binary;

namespace PredictionApi.Imaging;

/// <summary>
/// Reads the Huffman-coded scan data of a JPEG without decoding pixels, to refuse files the decoder would
/// only warn about: libjpeg fills data that ends early with gray and decodes garbage from damaged data,
/// and the codec reports success either way, so a cut or scrambled photo would get a confident prediction.
/// Checked: every block of every scan is present and made of valid codes, nothing is left over before the
/// next marker, restart markers come in order, and the samples are 8-bit. Arithmetic-coded files are
/// refused (their data cannot be checked here, and almost nothing writes them); lossless and hierarchical
/// ones are left to the decoder.
/// </summary>
internal static class JpegScan
{
    private const string Truncated = "its compressed data ends before the image does (truncated or cut off)";
    private const string Damaged = "its compressed data is damaged";

    // Encoders write about ten scans (libjpeg's progressive default), rarely a few dozen. Each scan is read over the
    // whole image, and a refinement scan can cover every block in three bytes: a 13 KB file of a thousand such scans
    // of a 784x784 image took seven seconds of CPU to check and decode.
    internal const int MaxScans = 100;

    /// <summary>
    /// Throws <see cref="ImageRejectedException"/> when the scans of <paramref name="jpeg"/> are incomplete or damaged;
    /// returns true when they are complete but the file ends without its end-of-image marker (some encoders and cut
    /// downloads leave it out), which the decoder would report as incomplete input.
    /// </summary>
    public static bool Check(ReadOnlySpan<byte> jpeg)
    {
        Frame? frame = null;
        var dc = new Huffman?[4];
        var ac = new Huffman?[4];
        var restartInterval = 0;
        var scans = 0;
        var i = 2;
        while (true)
        {
            // Markers may be preceded by any number of 0xFF fill bytes.
            while (i < jpeg.Length && jpeg[i] == 0xFF && i + 1 < jpeg.Length && jpeg[i + 1] == 0xFF)
            {
                i++;
            }

            if (i + 2 > jpeg.Length)
            {
                // No end-of-image marker: acceptable only when a sequential image has every component's scan.
                if (frame is { Progressive: false } f && f.AllScanned)
                {
                    return true;
                }

                throw Corrupt(Truncated);
            }

            if (jpeg[i] != 0xFF)
            {
                throw Corrupt($"{Damaged} (stray bytes where a marker should be, at byte {i})");
            }

            var marker = jpeg[i + 1];
            if (marker == 0xD9)
            {
                if (frame is null || !frame.AnyScan || frame is { Progressive: false, AllScanned: false })
                {
                    throw Corrupt(Truncated);
                }

                return false;
            }

            if (marker is 0xD8 or 0x01 or (>= 0xD0 and <= 0xD7))
            {
                i += 2;
                continue;
            }

            if (i + 4 > jpeg.Length)
            {
                throw Corrupt(Truncated);
            }

            var length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(i + 2)..]);
            if (length < 2 || i + 2 + length > jpeg.Length)
            {
                throw Corrupt(Truncated);
            }

            var segment = jpeg.Slice(i + 4, length - 2);
            switch (marker)
            {
                case 0xC4:
                    ReadHuffmanTables(segment, dc, ac);
                    break;
                case 0xDD:
                    restartInterval = segment.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(segment) : throw Corrupt($"{Damaged} (a short restart interval segment)");
                    break;
                case 0xCC or (>= 0xC9 and <= 0xCF):
                    // Arithmetic coding: its data cannot be checked here, and hardly any software writes it (browsers do not read it).
                    throw new ImageRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported image",
                        "The JPEG uses arithmetic coding, which this service does not read. Save it as an ordinary (Huffman-coded) JPEG or as a PNG and retry.");
                case 0xC3 or 0xC5 or 0xC6 or 0xC7:
                    // Lossless or hierarchical: rare, and the decoder judges them alone.
                    CheckPrecision(segment);
                    return false;
                case 0xC0 or 0xC1 or 0xC2:
                    CheckPrecision(segment);
                    frame = frame is null ? Frame.Read(segment, marker == 0xC2) : throw Corrupt($"{Damaged} (a second frame header)");
                    break;
                case 0xDA:
                    if (frame is null)
                    {
                        throw Corrupt($"{Damaged} (scan data before the frame header)");
                    }

                    if (++scans > MaxScans)
                    {
                        throw new ImageRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported image",
                            $"The JPEG has more than {MaxScans} scans, where encoders write about ten (each one is read over the whole image); this service does not read it. Save it as an ordinary JPEG or as a PNG and retry.");
                    }

                    i = ReadScan(jpeg, i + 2 + length, segment, frame, dc, ac, restartInterval);
                    continue;
            }

            i += 2 + length;
        }
    }

    private static ImageRejectedException Corrupt(string why) => ImageRejectedException.Corrupt(ImageFormat.Jpeg, why);

    private static void CheckPrecision(ReadOnlySpan<byte> sof)
    {
        if (sof.Length > 0 && sof[0] != 8)
        {
            throw new ImageRejectedException(StatusCodes.Status415UnsupportedMediaType, "Unsupported image",
                $"The JPEG has {sof[0]}-bit samples; this service reads 8-bit JPEGs (the usual kind). Save it as an 8-bit JPEG or as a PNG and retry.");
        }
    }

    private static void ReadHuffmanTables(ReadOnlySpan<byte> segment, Huffman?[] dc, Huffman?[] ac)
    {
        while (!segment.IsEmpty)
        {
            if (segment.Length < 17)
            {
                throw Corrupt($"{Damaged} (a short Huffman table)");
            }

            var (tableClass, id) = (segment[0] >> 4, segment[0] & 15);
            var counts = segment.Slice(1, 16);
            var total = 0;
            foreach (var n in counts)
            {
                total += n;
            }

            if (tableClass > 1 || id > 3 || total > 256 || segment.Length < 17 + total)
            {
                throw Corrupt($"{Damaged} (an invalid Huffman table)");
            }

            var table = Huffman.Build(counts, segment.Slice(17, total)) ?? throw Corrupt($"{Damaged} (an invalid Huffman table)");
            (tableClass == 0 ? dc : ac)[id] = table;
            segment = segment[(17 + total)..];
        }
    }

    /// <summary>Reads one scan's entropy-coded data from <paramref name="start"/>; returns where the next marker is.</summary>
    private static int ReadScan(ReadOnlySpan<byte> jpeg, int start, ReadOnlySpan<byte> header, Frame frame, Huffman?[] dc, Huffman?[] ac, int restartInterval)
    {
        if (header.Length < 1 || header[0] is < 1 or > 4 || header.Length < 1 + 2 * header[0] + 3)
        {
            throw Corrupt($"{Damaged} (an invalid scan header)");
        }

        var count = header[0];
        var components = new Component[count];
        var dcTables = new Huffman?[count];
        var acTables = new Huffman?[count];
        for (var n = 0; n < count; n++)
        {
            var id = header[1 + 2 * n];
            var tables = header[2 + 2 * n];
            components[n] = Array.Find(frame.Components, c => c.Id == id) ?? throw Corrupt($"{Damaged} (a scan names a component the frame does not have)");
            (dcTables[n], acTables[n]) = (dc[tables >> 4 & 3], ac[tables & 3]);
        }

        var (ss, se, ah, al) = (header[1 + 2 * count], header[2 + 2 * count], header[3 + 2 * count] >> 4, header[3 + 2 * count] & 15);
        var kind = !frame.Progressive ? ScanKind.Sequential
            : ss == 0 ? (ah == 0 ? ScanKind.DcFirst : ScanKind.DcRefine)
            : (ah == 0 ? ScanKind.AcFirst : ScanKind.AcRefine);
        if (frame.Progressive && (ss == 0 ? se != 0 : se < ss || se > 63 || count != 1) || ah > 13 || al > 13)
        {
            throw Corrupt($"{Damaged} (an invalid progressive scan)");
        }

        for (var n = 0; n < count; n++)
        {
            var needsDc = kind is ScanKind.Sequential or ScanKind.DcFirst;
            var needsAc = kind is ScanKind.Sequential or ScanKind.AcFirst or ScanKind.AcRefine;
            if (needsDc && dcTables[n] is null || needsAc && acTables[n] is null)
            {
                throw Corrupt($"{Damaged} (a scan uses a Huffman table that was never defined)");
            }

            components[n].Scanned = true;
        }

        frame.AnyScan = true;
        var reader = new BitReader(jpeg, start);
        var eobRun = 0;
        var restarts = 0;
        // One component alone is coded block by block; several are interleaved in MCUs of Hi x Vi blocks each.
        var single = count == 1;
        var (unitsX, unitsY) = single ? components[0].BlocksInImage(frame) : (frame.McusX, frame.McusY);
        var units = (long)unitsX * unitsY;
        for (long u = 0; u < units; u++)
        {
            if (restartInterval > 0 && u > 0 && u % restartInterval == 0)
            {
                reader.Restart(restarts++ & 7);
                eobRun = 0;
            }

            var (ux, uy) = ((int)(u % unitsX), (int)(u / unitsX));
            for (var n = 0; n < count; n++)
            {
                var c = components[n];
                var (bw, bh) = single ? (1, 1) : (c.H, c.V);
                for (var by = 0; by < bh; by++)
                {
                    for (var bx = 0; bx < bw; bx++)
                    {
                        var block = (uy * bh + by) * c.StrideBlocks + ux * bw + bx;
                        switch (kind)
                        {
                            case ScanKind.Sequential:
                                ReadDc(ref reader, dcTables[n]!);
                                ReadAc(ref reader, acTables[n]!, 1, 63, null, 0);
                                break;
                            case ScanKind.DcFirst:
                                ReadDc(ref reader, dcTables[n]!);
                                break;
                            case ScanKind.DcRefine:
                                reader.Skip(1);
                                break;
                            case ScanKind.AcFirst:
                                eobRun = eobRun > 0 ? eobRun - 1 : ReadAc(ref reader, acTables[n]!, ss, se, c.NonZero(frame), block);
                                break;
                            default:
                                eobRun = RefineAc(ref reader, acTables[n]!, ss, se, c.NonZero(frame), block, eobRun);
                                break;
                        }
                    }
                }
            }
        }

        return reader.End();
    }

    private static void ReadDc(ref BitReader reader, Huffman table)
    {
        var s = table.Decode(ref reader);
        if (s > 11)
        {
            throw Corrupt($"{Damaged} (an impossible DC coefficient)");
        }

        reader.Skip(s);
    }

    /// <summary>
    /// Coefficients <paramref name="ss"/>..<paramref name="se"/> of one block; returns the end-of-band run
    /// that follows it (progressive), marking the coefficients it sets in <paramref name="nonZero"/>.
    /// </summary>
    private static int ReadAc(ref BitReader reader, Huffman table, int ss, int se, ulong[]? nonZero, int block)
    {
        for (var k = ss; k <= se; k++)
        {
            var rs = table.Decode(ref reader);
            var (r, s) = (rs >> 4, rs & 15);
            if (s != 0)
            {
                k += r;
                if (k > se || s > 10)
                {
                    throw Corrupt($"{Damaged} (a coefficient outside its block)");
                }

                reader.Skip(s);
                if (nonZero is not null)
                {
                    nonZero[block] |= 1UL << k;
                }
            }
            else if (r == 15)
            {
                k += 15;
                if (k > se)
                {
                    throw Corrupt($"{Damaged} (a run of zeros past the end of its block)");
                }
            }
            else
            {
                // End of block; in progressive scans (which track non-zero coefficients) an end-of-band run
                // that may cover the next blocks as well.
                return r == 0 || nonZero is null ? 0 : (1 << r) + reader.Bits(r) - 1;
            }
        }

        return 0;
    }

    /// <summary>An AC refinement of one block (ITU T.81 G.1.2.3, as libjpeg reads it); returns the remaining end-of-band run.</summary>
    private static int RefineAc(ref BitReader reader, Huffman table, int ss, int se, ulong[] nonZero, int block, int eobRun)
    {
        var k = ss;
        if (eobRun == 0)
        {
            for (; k <= se; k++)
            {
                var rs = table.Decode(ref reader);
                var (r, s) = (rs >> 4, rs & 15);
                if (s != 0)
                {
                    if (s != 1)
                    {
                        throw Corrupt($"{Damaged} (an impossible refinement)");
                    }

                    reader.Skip(1);
                }
                else if (r != 15)
                {
                    eobRun = 1 << r;
                    if (r != 0)
                    {
                        eobRun += reader.Bits(r);
                    }

                    break;
                }

                // Skip r zero coefficients, reading a correction bit for each non-zero one passed.
                while (k <= se)
                {
                    if ((nonZero[block] & 1UL << k) != 0)
                    {
                        reader.Skip(1);
                    }
                    else if (--r < 0)
                    {
                        break;
                    }

                    k++;
                }

                if (s != 0)
                {
                    if (k > se)
                    {
                        throw Corrupt($"{Damaged} (a coefficient outside its block)");
                    }

                    nonZero[block] |= 1UL << k;
                }
            }
        }

        if (eobRun > 0)
        {
            for (; k <= se; k++)
            {
                if ((nonZero[block] & 1UL << k) != 0)
                {
                    reader.Skip(1);
                }
            }

            eobRun--;
        }

        return eobRun;
    }

    private enum ScanKind
    {
        Sequential,
        DcFirst,
        DcRefine,
        AcFirst,
        AcRefine,
    }

    private sealed class Frame
    {
        public required Component[] Components { get; init; }

        public required bool Progressive { get; init; }

        public required int Width { get; init; }

        public required int Height { get; init; }

        public int MaxH { get; private init; }

        public int MaxV { get; private init; }

        public int McusX => (Width + 8 * MaxH - 1) / (8 * MaxH);

        public int McusY => (Height + 8 * MaxV - 1) / (8 * MaxV);

        public bool AnyScan { get; set; }

        public bool AllScanned => Array.TrueForAll(Components, c => c.Scanned);

        public static Frame Read(ReadOnlySpan<byte> sof, bool progressive)
        {
            if (sof.Length < 6 || sof.Length < 6 + 3 * sof[5] || sof[5] is < 1 or > 4)
            {
                throw Corrupt($"{Damaged} (an invalid frame header)");
            }

            var components = new Component[sof[5]];
            for (var n = 0; n < components.Length; n++)
            {
                var (h, v) = (sof[7 + 3 * n] >> 4, sof[7 + 3 * n] & 15);
                if (h is < 1 or > 4 || v is < 1 or > 4)
                {
                    throw Corrupt($"{Damaged} (invalid sampling factors)");
                }

                components[n] = new Component { Id = sof[6 + 3 * n], H = h, V = v };
            }

            var frame = new Frame
            {
                Components = components,
                Progressive = progressive,
                Height = BinaryPrimitives.ReadUInt16BigEndian(sof[1..]),
                Width = BinaryPrimitives.ReadUInt16BigEndian(sof[3..]),
                MaxH = components.Max(c => c.H),
                MaxV = components.Max(c => c.V),
            };
            if (frame.Width == 0 || frame.Height == 0)
            {
                throw Corrupt($"{Damaged} (a frame of no pixels)");
            }

            return frame;
        }
    }

    private sealed class Component
    {
        private ulong[]? _nonZero;

        public required int Id { get; init; }

        public required int H { get; init; }

        public required int V { get; init; }

        public bool Scanned { get; set; }

        // Blocks per row of the component as interleaved scans lay them out (whole MCUs).
        public int StrideBlocks { get; private set; }

        /// <summary>Blocks that hold image samples, which is what a scan of this component alone codes.</summary>
        public (int X, int Y) BlocksInImage(Frame frame)
        {
            StrideBlocks = frame.McusX * H;
            var samplesX = (frame.Width * H + frame.MaxH - 1) / frame.MaxH;
            var samplesY = (frame.Height * V + frame.MaxV - 1) / frame.MaxV;
            return ((samplesX + 7) / 8, (samplesY + 7) / 8);
        }

        /// <summary>One bit per coefficient of every block: which ones earlier scans made non-zero (for refinement).</summary>
        public ulong[] NonZero(Frame frame)
        {
            StrideBlocks = frame.McusX * H;
            return _nonZero ??= new ulong[(long)StrideBlocks * frame.McusY * V];
        }
    }

    /// <summary>Canonical Huffman decoding as in ITU T.81 F.2.2.3, with a table for codes of up to 8 bits.</summary>
    private sealed class Huffman
    {
        private readonly int[] _maxCode = new int[17];
        private readonly int[] _valueIndex = new int[17];
        private readonly int[] _minCode = new int[17];
        private readonly ushort[] _fast = new ushort[256];
        private byte[] _values = [];

        /// <summary>The table, or null when its code lengths over-fill the code space.</summary>
        public static Huffman? Build(ReadOnlySpan<byte> counts, ReadOnlySpan<byte> values)
        {
            var table = new Huffman { _values = values.ToArray() };
            var (code, index) = (0, 0);
            for (var length = 1; length <= 16; length++)
            {
                var n = counts[length - 1];
                table._minCode[length] = code;
                table._valueIndex[length] = index;
                table._maxCode[length] = n > 0 ? code + n - 1 : -1;
                // As libjpeg: a code of all ones would be ambiguous with fill bits.
                if (n > 0 && code + n >= 1 << length)
                {
                    return null;
                }

                for (var j = 0; j < n && length <= 8; j++)
                {
                    var first = (code + j) << (8 - length);
                    table._fast.AsSpan(first, 1 << (8 - length)).Fill((ushort)(length << 8 | values[index + j]));
                }

                code += n;
                index += n;
                code <<= 1;
            }

            return table;
        }

        public int Decode(ref BitReader reader)
        {
            var peek = reader.Peek16();
            var fast = _fast[peek >> 8];
            if (fast != 0)
            {
                reader.Skip(fast >> 8);
                return fast & 0xFF;
            }

            for (var length = 9; length <= 16; length++)
            {
                var code = peek >> (16 - length);
                if (code <= _maxCode[length])
                {
                    reader.Skip(length);
                    return _values[_valueIndex[length] + code - _minCode[length]];
                }
            }

            throw Corrupt($"{Damaged} (an invalid Huffman code)");
        }
    }

    /// <summary>
    /// Bits of entropy-coded data, with stuffed zero bytes removed. At a marker or the end of the file it
    /// supplies zero bits, as libjpeg does, but counts them: using one means the data ended too soon.
    /// </summary>
    private ref struct BitReader(ReadOnlySpan<byte> data, int position)
    {
        private readonly ReadOnlySpan<byte> _data = data;
        private int _position = position;
        private ulong _bits;
        private int _count;
        private int _padding;

        public int Peek16()
        {
            if (_count < 16)
            {
                Fill();
            }

            return (int)(_bits >> 48);
        }

        public void Skip(int n)
        {
            if (_count < n)
            {
                Fill();
            }

            _bits <<= n;
            _count -= n;
            if (_count < _padding)
            {
                throw Corrupt(Truncated);
            }
        }

        public int Bits(int n)
        {
            var value = Peek16() >> (16 - n);
            Skip(n);
            return value;
        }

        /// <summary>At the end of a restart interval: expects nothing but padding bits, then marker RST<paramref name="index"/>.</summary>
        public void Restart(int index)
        {
            var at = End();
            while (at + 1 < _data.Length && _data[at + 1] == 0xFF)
            {
                at++;
            }

            if (at + 1 >= _data.Length || _data[at + 1] != 0xD0 + index)
            {
                throw Corrupt(at + 1 >= _data.Length ? Truncated : $"{Damaged} (restart markers out of order)");
            }

            (_position, _bits, _count, _padding) = (at + 2, 0, 0, 0);
        }

        /// <summary>Where the marker after the data is; throws when whole bytes of data are left over before it.</summary>
        public readonly int End()
        {
            var leftover = _count - _padding >= 8;
            var at = _position;
            if (_padding == 0)
            {
                // Not yet read up to the marker: whatever lies before it is left over.
                leftover |= at < _data.Length && !(_data[at] == 0xFF && at + 1 < _data.Length && _data[at + 1] != 0);
            }

            if (leftover)
            {
                throw Corrupt($"{Damaged} (data left over after the last block of a scan)");
            }

            return at;
        }

        private void Fill()
        {
            while (_count <= 56)
            {
                ulong b = 0;
                if (_padding == 0 && _position < _data.Length)
                {
                    var value = _data[_position];
                    if (value != 0xFF)
                    {
                        (b, _position) = (value, _position + 1);
                    }
                    else if (_position + 1 < _data.Length && _data[_position + 1] == 0)
                    {
                        (b, _position) = (0xFF, _position + 2);
                    }
                    else
                    {
                        _padding += 8; // a marker: the data of this segment ends here
                    }
                }
                else
                {
                    _padding += 8;
                }

                _bits |= b << (56 - _count);
                _count += 8;
            }
        }
    }
}
