using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Harness.Core.Suites;

namespace Harness.Core.Gguf;

/// <summary>
/// Reads GGUF v2/v3 headers (little-endian) by streaming: metadata and the tensor table are read, tensor data
/// is never touched unless asked for. Every length and count in the file is checked against the bytes that
/// remain before anything is allocated, so a corrupt file gives an <see cref="InputFileException"/>, not an
/// out-of-memory crash.
/// </summary>
public static class GgufReader
{
    /// <summary>"GGUF" read as a little-endian uint32.</summary>
    internal const uint Magic = 0x46554747;

    /// <summary>ggml's GGML_MAX_DIMS.</summary>
    internal const int MaxDimensions = 4;

    // Deeper nesting has no use and unbounded recursion could overflow the stack.
    private const int MaxArrayDepth = 8;

    /// <summary>Reads the header, metadata and tensor table of <paramref name="path"/>.</summary>
    /// <exception cref="InputFileException">The file is missing, unreadable or not a valid GGUF v2/v3 file.</exception>
    public static GgufFile Read(string path)
    {
        var fullPath = Path.GetFullPath(path);
        using var stream = Open(fullPath);
        var reader = new Cursor(stream, fullPath);
        return ReadHeader(reader, fullPath);
    }

    /// <summary>The raw bytes of one tensor of <paramref name="file"/>.</summary>
    /// <exception cref="InputFileException">The file changed, is truncated, or the tensor is too large for one array.</exception>
    public static ImmutableArray<byte> ReadTensorBytes(GgufFile file, GgufTensorInfo tensor)
    {
        var size = tensor.SizeBytes;
        var start = file.DataOffsetBytes + tensor.OffsetBytes;
        if (size > Array.MaxLength)
        {
            throw new InputFileException(file.FilePath, null, $"tensor '{tensor.Name}' has {size} bytes, too many to read into memory at once");
        }

        using var stream = Open(file.FilePath);
        if (stream.Length < start + size)
        {
            throw new InputFileException(file.FilePath, null, $"tensor '{tensor.Name}' data at byte offset {start} runs past the end of the file ({stream.Length} bytes)");
        }

        var bytes = new byte[size];
        stream.Position = start;
        stream.ReadExactly(bytes);
        return ImmutableCollectionsMarshal.AsImmutableArray(bytes);
    }

    /// <summary>One F32, F16 or BF16 tensor as floats, in ggml element order.</summary>
    /// <exception cref="InputFileException">Another tensor type, or unreadable data.</exception>
    public static ImmutableArray<float> ReadTensorSingles(GgufFile file, GgufTensorInfo tensor)
    {
        if (tensor.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16))
        {
            throw new InputFileException(file.FilePath, null, $"tensor '{tensor.Name}' is {tensor.Type}; only F32, F16 and BF16 convert to floats");
        }

        var bytes = ReadTensorBytes(file, tensor).AsSpan();
        var values = new float[tensor.ElementCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = tensor.Type switch
            {
                GgmlType.F32 => BinaryPrimitives.ReadSingleLittleEndian(bytes[(i * 4)..]),
                GgmlType.F16 => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(i * 2)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(i * 2)..]) << 16),
            };
        }

        return ImmutableCollectionsMarshal.AsImmutableArray(values);
    }

    private static FileStream Open(string fullPath)
    {
        try
        {
            return new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException(fullPath, null, $"cannot open the file: {e.Message}");
        }
    }

    private static GgufFile ReadHeader(Cursor reader, string path)
    {
        var magic = reader.ReadUInt32("the magic number");
        if (magic != Magic)
        {
            throw reader.Fail(0, $"not a GGUF file: magic is 0x{magic:X8}, expected 0x{Magic:X8} (\"GGUF\")");
        }

        var version = reader.ReadUInt32("the version");
        if (version is not (2 or 3))
        {
            var hint = BinaryPrimitives.ReverseEndianness(version) is 2 or 3 ? " (a big-endian file, which is not supported)" : "";
            throw reader.Fail(4, $"unsupported GGUF version {version}{hint}; versions 2 and 3 are supported");
        }

        var tensorCount = reader.ReadCount("the tensor count", minimumItemBytes: 24);
        var metadataCount = reader.ReadCount("the metadata count", minimumItemBytes: 13);

        var metadata = ImmutableArray.CreateBuilder<GgufMetadataEntry>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < metadataCount; i++)
        {
            var keyOffset = reader.Position;
            var key = reader.ReadString("a metadata key");
            if (!keys.Add(key))
            {
                throw reader.Fail(keyOffset, $"duplicate metadata key '{key}'");
            }

            var type = reader.ReadValueType($"the type of '{key}'");
            metadata.Add(new GgufMetadataEntry(key, ReadValue(reader, type, key, depth: 0)));
        }

        var alignment = GgufFile.DefaultAlignment;
        if (metadata.FirstOrDefault(e => e.Key == "general.alignment") is { } alignmentEntry)
        {
            if (alignmentEntry.Value.Type != GgufValueType.UInt32
                || alignmentEntry.Value.AsInt64() is var a && (a == 0 || a > int.MaxValue || (a & (a - 1)) != 0))
            {
                throw reader.Fail(null, $"general.alignment must be a uint32 power of two, got {alignmentEntry.Value.Type} {alignmentEntry.Value}");
            }

            alignment = (int)alignmentEntry.Value.AsInt64();
        }

        var infos = new List<(GgufTensorInfo Info, long HeaderOffset)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (long i = 0; i < tensorCount; i++)
        {
            var infoOffset = reader.Position;
            var name = reader.ReadString("a tensor name");
            if (!names.Add(name))
            {
                throw reader.Fail(infoOffset, $"duplicate tensor name '{name}'");
            }

            var dimensionCount = reader.ReadUInt32($"the dimension count of tensor '{name}'");
            if (dimensionCount is 0 or > MaxDimensions)
            {
                throw reader.Fail(reader.Position - 4, $"tensor '{name}' has {dimensionCount} dimensions; 1 to {MaxDimensions} are allowed");
            }

            var dimensions = ImmutableArray.CreateBuilder<long>((int)dimensionCount);
            long elements = 1;
            for (var d = 0; d < dimensionCount; d++)
            {
                var dimension = reader.ReadUInt64($"dimension {d} of tensor '{name}'");
                if (dimension > long.MaxValue || (dimension > 0 && elements > long.MaxValue / (long)dimension))
                {
                    throw reader.Fail(reader.Position - 8, $"tensor '{name}' has an absurd size (dimension {d} is {dimension})");
                }

                elements *= (long)dimension;
                dimensions.Add((long)dimension);
            }

            var typeId = reader.ReadUInt32($"the type of tensor '{name}'");
            if (!GgmlTypeInfo.IsKnown(typeId))
            {
                throw reader.Fail(reader.Position - 4, $"tensor '{name}' has unknown ggml type {typeId}");
            }

            var type = (GgmlType)typeId;
            if (dimensions[0] % GgmlTypeInfo.BlockSize(type) != 0)
            {
                throw reader.Fail(infoOffset, $"tensor '{name}' row of {dimensions[0]} elements is not a whole number of {type} blocks of {GgmlTypeInfo.BlockSize(type)}");
            }

            var offset = reader.ReadUInt64($"the data offset of tensor '{name}'");
            if (offset > long.MaxValue || (long)offset % alignment != 0)
            {
                throw reader.Fail(reader.Position - 8, $"tensor '{name}' data offset {offset} is not a multiple of the alignment {alignment}");
            }

            infos.Add((new GgufTensorInfo(name, dimensions.MoveToImmutable(), type, (long)offset), infoOffset));
        }

        var dataOffset = Align(reader.Position, alignment);
        foreach (var (info, headerOffset) in infos)
        {
            long size;
            try
            {
                size = info.SizeBytes;
            }
            catch (OverflowException)
            {
                throw reader.Fail(headerOffset, $"tensor '{info.Name}' has an absurd size");
            }

            if (info.OffsetBytes > reader.Length - dataOffset || size > reader.Length - dataOffset - info.OffsetBytes)
            {
                throw reader.Fail(headerOffset,
                    $"tensor '{info.Name}' ({size} bytes at data offset {info.OffsetBytes}) runs past the end of the file ({reader.Length} bytes, data starts at {dataOffset}); the file is truncated or corrupt");
            }
        }

        return new GgufFile(path, reader.Length, version, metadata.ToImmutable(), [.. infos.Select(t => t.Info)], alignment, dataOffset);
    }

    private static GgufValue ReadValue(Cursor reader, GgufValueType type, string key, int depth) => type switch
    {
        GgufValueType.UInt8 => GgufValue.UInt8(reader.ReadSpan(1, key)[0]),
        GgufValueType.Int8 => GgufValue.Int8((sbyte)reader.ReadSpan(1, key)[0]),
        GgufValueType.UInt16 => GgufValue.UInt16(BinaryPrimitives.ReadUInt16LittleEndian(reader.ReadSpan(2, key))),
        GgufValueType.Int16 => GgufValue.Int16(BinaryPrimitives.ReadInt16LittleEndian(reader.ReadSpan(2, key))),
        GgufValueType.UInt32 => GgufValue.UInt32(reader.ReadUInt32(key)),
        GgufValueType.Int32 => GgufValue.Int32(BinaryPrimitives.ReadInt32LittleEndian(reader.ReadSpan(4, key))),
        GgufValueType.Float32 => GgufValue.Float32(BinaryPrimitives.ReadSingleLittleEndian(reader.ReadSpan(4, key))),
        GgufValueType.Bool => GgufValue.Bool(ReadBool(reader, key)),
        GgufValueType.String => GgufValue.String(reader.ReadString(key)),
        GgufValueType.UInt64 => GgufValue.UInt64(reader.ReadUInt64(key)),
        GgufValueType.Int64 => GgufValue.Int64(BinaryPrimitives.ReadInt64LittleEndian(reader.ReadSpan(8, key))),
        GgufValueType.Float64 => GgufValue.Float64(BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadSpan(8, key))),
        GgufValueType.Array => ReadArray(reader, key, depth),
        _ => throw new InvalidOperationException($"unhandled GGUF value type {type}"),
    };

    private static GgufValue ReadArray(Cursor reader, string key, int depth)
    {
        if (depth >= MaxArrayDepth)
        {
            throw reader.Fail(reader.Position, $"metadata key '{key}' nests arrays deeper than {MaxArrayDepth} levels");
        }

        var elementType = reader.ReadValueType($"the element type of '{key}'");
        var count = (int)Math.Min(reader.ReadCount($"the length of '{key}'", GgufValue.MinimumSizeBytes(elementType)), Array.MaxLength);
        return elementType switch
        {
            GgufValueType.UInt8 => GgufValue.Array(ReadItems(count, () => reader.ReadSpan(1, key)[0])),
            GgufValueType.Int8 => GgufValue.Array(ReadItems(count, () => (sbyte)reader.ReadSpan(1, key)[0])),
            GgufValueType.UInt16 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadUInt16LittleEndian(reader.ReadSpan(2, key)))),
            GgufValueType.Int16 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadInt16LittleEndian(reader.ReadSpan(2, key)))),
            GgufValueType.UInt32 => GgufValue.Array(ReadItems(count, () => reader.ReadUInt32(key))),
            GgufValueType.Int32 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadInt32LittleEndian(reader.ReadSpan(4, key)))),
            GgufValueType.Float32 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadSingleLittleEndian(reader.ReadSpan(4, key)))),
            GgufValueType.Bool => GgufValue.Array(ReadItems(count, () => ReadBool(reader, key))),
            GgufValueType.String => GgufValue.Array(ReadItems(count, () => reader.ReadString(key))),
            GgufValueType.UInt64 => GgufValue.Array(ReadItems(count, () => reader.ReadUInt64(key))),
            GgufValueType.Int64 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadInt64LittleEndian(reader.ReadSpan(8, key)))),
            GgufValueType.Float64 => GgufValue.Array(ReadItems(count, () => BinaryPrimitives.ReadDoubleLittleEndian(reader.ReadSpan(8, key)))),
            _ => GgufValue.ArrayOfArrays(ReadItems(count, () =>
            {
                var innerType = reader.ReadValueType($"the element type of '{key}'");
                return innerType == GgufValueType.Array
                    ? ReadArray(reader, key, depth + 1)
                    : throw reader.Fail(reader.Position - 4, $"metadata key '{key}' is an array of arrays with a {innerType} element");
            })),
        };
    }

    // The builder grows as elements are actually read, so memory stays proportional to bytes consumed even
    // when a corrupt count would pass the size check of a large file.
    private static ImmutableArray<T> ReadItems<T>(int count, Func<T> readOne)
    {
        var builder = ImmutableArray.CreateBuilder<T>(Math.Min(count, 1 << 16));
        for (var i = 0; i < count; i++)
        {
            builder.Add(readOne());
        }

        return builder.Count == builder.Capacity ? builder.MoveToImmutable() : builder.ToImmutable();
    }

    private static bool ReadBool(Cursor reader, string key)
    {
        var b = reader.ReadSpan(1, key)[0];
        return b switch
        {
            0 => false,
            1 => true,
            _ => throw reader.Fail(reader.Position - 1, $"metadata key '{key}' has bool byte {b}, expected 0 or 1"),
        };
    }

    internal static long Align(long offset, int alignment) => (offset + alignment - 1) / alignment * alignment;

    /// <summary>A forward-only, buffered read position in the file that knows how many bytes remain.</summary>
    private sealed class Cursor(Stream stream, string path)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _bufferStart;
        private int _bufferEnd;

        public long Length { get; } = stream.Length;

        public long Position { get; private set; }

        private long Remaining => Length - Position;

        public ReadOnlySpan<byte> ReadSpan(int count, string what)
        {
            if (count > Remaining)
            {
                throw Fail(Position, $"truncated: {what} needs {count} bytes at byte offset {Position}, but the file ends at {Length}");
            }

            if (_bufferEnd - _bufferStart < count)
            {
                Fill(count);
            }

            var span = _buffer.AsSpan(_bufferStart, count);
            _bufferStart += count;
            Position += count;
            return span;
        }

        public uint ReadUInt32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(ReadSpan(4, what));

        public ulong ReadUInt64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(ReadSpan(8, what));

        public GgufValueType ReadValueType(string what)
        {
            var type = ReadUInt32(what);
            return type <= (uint)GgufValueType.Float64
                ? (GgufValueType)type
                : throw Fail(Position - 4, $"{what} is {type}, not a GGUF value type");
        }

        /// <summary>A count of items that each take at least <paramref name="minimumItemBytes"/>: capped by the bytes left.</summary>
        public long ReadCount(string what, int minimumItemBytes)
        {
            var offset = Position;
            var count = ReadUInt64(what);
            if (count > (ulong)(Remaining / minimumItemBytes))
            {
                throw Fail(offset, $"{what} is {count}, impossible with {Remaining} bytes left in the file");
            }

            return (long)count;
        }

        public string ReadString(string what)
        {
            var offset = Position;
            var length = ReadUInt64($"the length of {what}");
            if (length > (ulong)Remaining)
            {
                throw Fail(offset, $"{what} claims {length} bytes at byte offset {offset}, but only {Remaining} bytes are left in the file");
            }

            if (length > int.MaxValue)
            {
                throw Fail(offset, $"{what} claims {length} bytes, longer than any string can be");
            }

            if (length <= (ulong)_buffer.Length)
            {
                // Invalid UTF-8 becomes U+FFFD, as some vocabularies carry partial byte sequences.
                return Encoding.UTF8.GetString(ReadSpan((int)length, what));
            }

            var bytes = new byte[length];
            var copied = _bufferEnd - _bufferStart;
            _buffer.AsSpan(_bufferStart, copied).CopyTo(bytes);
            _bufferStart = _bufferEnd;
            stream.ReadExactly(bytes, copied, bytes.Length - copied);
            Position += bytes.Length;
            return Encoding.UTF8.GetString(bytes);
        }

        public InputFileException Fail(long? offset, string problem) =>
            new(path, null, offset is null || problem.Contains("byte offset", StringComparison.Ordinal)
                ? problem
                : $"{problem} (at byte offset {offset.Value.ToString(CultureInfo.InvariantCulture)})");

        private void Fill(int count)
        {
            var kept = _bufferEnd - _bufferStart;
            Buffer.BlockCopy(_buffer, _bufferStart, _buffer, 0, kept);
            _bufferStart = 0;
            _bufferEnd = kept;
            while (_bufferEnd < count)
            {
                var read = stream.Read(_buffer, _bufferEnd, _buffer.Length - _bufferEnd);
                if (read == 0)
                {
                    throw Fail(Position, $"the file ended early at byte offset {Position + _bufferEnd} while it reports {Length} bytes");
                }

                _bufferEnd += read;
            }
        }
    }
}
