using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Runtime.InteropServices;
using System.Text;
using Harness.Core.Serialization;

namespace Harness.Core.Gguf;

/// <summary>A tensor to write: its shape in ggml order and its raw little-endian bytes.</summary>
/// <param name="Dimensions">ggml order: <c>Dimensions[0]</c> is the contiguous (row) dimension.</param>
public sealed record GgufTensor(string Name, ImmutableArray<long> Dimensions, GgmlType Type, ImmutableArray<byte> Data)
{
    /// <summary>Encodes <paramref name="values"/> (ggml element order) as F32, F16 or BF16; F16/BF16 round to nearest even.</summary>
    public static GgufTensor FromSingles(string name, ImmutableArray<long> dimensions, ReadOnlySpan<float> values, GgmlType type)
    {
        var elementBytes = type switch
        {
            GgmlType.F32 => 4,
            GgmlType.F16 or GgmlType.BF16 => 2,
            _ => throw new ArgumentException($"Only F32, F16 and BF16 tensors can be built from floats, not {type}.", nameof(type)),
        };
        var bytes = new byte[checked(values.Length * elementBytes)];
        for (var i = 0; i < values.Length; i++)
        {
            var slot = bytes.AsSpan(i * elementBytes);
            switch (type)
            {
                case GgmlType.F32:
                    BinaryPrimitives.WriteSingleLittleEndian(slot, values[i]);
                    break;
                case GgmlType.F16:
                    BinaryPrimitives.WriteHalfLittleEndian(slot, (Half)values[i]);
                    break;
                default:
                    BinaryPrimitives.WriteUInt16LittleEndian(slot, ToBFloat16(values[i]));
                    break;
            }
        }

        return new GgufTensor(name, dimensions, type, ImmutableCollectionsMarshal.AsImmutableArray(bytes));
    }

    // Round-to-nearest-even like ggml_compute_fp32_to_bf16; NaN stays a quiet NaN.
    private static ushort ToBFloat16(float value)
    {
        var bits = BitConverter.SingleToUInt32Bits(value);
        if ((bits & 0x7fffffff) > 0x7f800000)
        {
            return (ushort)((bits >> 16) | 64);
        }

        return (ushort)((bits + (0x7fff + ((bits >> 16) & 1))) >> 16);
    }
}

/// <summary>
/// Writes GGUF v3 files. The bytes depend only on the arguments (metadata and tensors in the given order),
/// so the same input always gives the same file.
/// </summary>
public static class GgufWriter
{
    /// <summary>ggml's GGML_MAX_NAME: llama.cpp rejects longer tensor names.</summary>
    public const int MaxTensorNameBytes = 63;

    /// <summary>Writes a complete GGUF v3 file to <paramref name="output"/>.</summary>
    /// <exception cref="ArgumentException">Duplicate keys or names, a bad alignment, or tensor data of the wrong size.</exception>
    public static void Write(Stream output, IReadOnlyList<GgufMetadataEntry> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        var alignment = Validate(metadata, tensors);

        // The header goes through memory first so its length (and so the padding) is known without seeking.
        using var header = new MemoryStream();
        using (var sink = new BinaryWriter(header, Encoding.UTF8, leaveOpen: true))
        {
            sink.Write(GgufReader.Magic);
            sink.Write(3u);
            sink.Write((ulong)tensors.Count);
            sink.Write((ulong)metadata.Count);
            foreach (var entry in metadata)
            {
                WriteString(sink, entry.Key);
                sink.Write((uint)entry.Value.Type);
                WriteValue(sink, entry.Value);
            }

            long offset = 0;
            foreach (var tensor in tensors)
            {
                WriteString(sink, tensor.Name);
                sink.Write((uint)tensor.Dimensions.Length);
                foreach (var dimension in tensor.Dimensions)
                {
                    sink.Write((ulong)dimension);
                }

                sink.Write((uint)tensor.Type);
                sink.Write((ulong)offset);
                offset = GgufReader.Align(offset + tensor.Data.Length, alignment);
            }
        }

        header.Position = 0;
        header.CopyTo(output);
        Pad(output, GgufReader.Align(header.Length, alignment) - header.Length);
        foreach (var tensor in tensors)
        {
            output.Write(tensor.Data.AsSpan());
            Pad(output, GgufReader.Align(tensor.Data.Length, alignment) - tensor.Data.Length);
        }

        output.Flush();
    }

    /// <summary>Writes to a temporary file next to <paramref name="path"/> and renames it, so a crash never leaves half a model.</summary>
    public static void WriteFile(string path, IReadOnlyList<GgufMetadataEntry> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        var fullPath = Path.GetFullPath(path);
        var temporary = AtomicFile.TemporaryPathFor(fullPath);
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Write(stream, metadata, tensors);
            }

            AtomicFile.Commit(temporary, fullPath);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private static int Validate(IReadOnlyList<GgufMetadataEntry> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var alignment = GgufFile.DefaultAlignment;
        foreach (var entry in metadata)
        {
            if (!keys.Add(entry.Key))
            {
                throw new ArgumentException($"Duplicate metadata key '{entry.Key}'.", nameof(metadata));
            }

            if (entry.Key == "general.alignment")
            {
                var value = entry.Value.Type == GgufValueType.UInt32 ? entry.Value.AsInt64() : 0;
                if (value <= 0 || value > int.MaxValue || (value & (value - 1)) != 0)
                {
                    throw new ArgumentException("general.alignment must be a uint32 power of two.", nameof(metadata));
                }

                alignment = (int)value;
            }
        }

        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var tensor in tensors)
        {
            if (!names.Add(tensor.Name))
            {
                throw new ArgumentException($"Duplicate tensor name '{tensor.Name}'.", nameof(tensors));
            }

            if (Encoding.UTF8.GetByteCount(tensor.Name) > MaxTensorNameBytes)
            {
                throw new ArgumentException($"Tensor name '{tensor.Name}' is longer than {MaxTensorNameBytes} bytes.", nameof(tensors));
            }

            if (tensor.Dimensions.IsDefaultOrEmpty || tensor.Dimensions.Length > GgufReader.MaxDimensions || tensor.Dimensions.Any(d => d < 0))
            {
                throw new ArgumentException($"Tensor '{tensor.Name}' needs 1 to {GgufReader.MaxDimensions} non-negative dimensions.", nameof(tensors));
            }

            var info = new GgufTensorInfo(tensor.Name, tensor.Dimensions, tensor.Type, 0);
            if (tensor.Data.IsDefault || info.SizeBytes != tensor.Data.Length)
            {
                throw new ArgumentException(
                    $"Tensor '{tensor.Name}' ({tensor.Type} [{string.Join(", ", tensor.Dimensions)}]) needs {info.SizeBytes} bytes of data, got {(tensor.Data.IsDefault ? 0 : tensor.Data.Length)}.",
                    nameof(tensors));
            }
        }

        return alignment;
    }

    private static void WriteValue(BinaryWriter sink, GgufValue value)
    {
        switch (value.Type)
        {
            case GgufValueType.Array:
                WriteArray(sink, value);
                break;
            case GgufValueType.String:
                WriteString(sink, value.AsString());
                break;
            case GgufValueType.Bool:
                sink.Write((byte)(value.AsBool() ? 1 : 0));
                break;
            default:
                WriteScalar(sink, value.Payload);
                break;
        }
    }

    private static void WriteArray(BinaryWriter sink, GgufValue value)
    {
        var elementType = value.ElementType!.Value;
        sink.Write((uint)elementType);
        sink.Write((ulong)value.Count);
        switch (elementType)
        {
            case GgufValueType.Array:
                foreach (var inner in value.AsArrayOfArrays())
                {
                    sink.Write((uint)GgufValueType.Array);
                    WriteArray(sink, inner);
                }

                break;
            case GgufValueType.String:
                foreach (var s in value.AsArray<string>())
                {
                    WriteString(sink, s);
                }

                break;
            case GgufValueType.Bool:
                foreach (var b in value.AsArray<bool>())
                {
                    sink.Write((byte)(b ? 1 : 0));
                }

                break;
            default:
                foreach (var item in (System.Collections.IEnumerable)value.Payload)
                {
                    WriteScalar(sink, item);
                }

                break;
        }
    }

    // BinaryWriter writes little-endian on every platform.
    private static void WriteScalar(BinaryWriter sink, object scalar)
    {
        switch (scalar)
        {
            case byte v: sink.Write(v); break;
            case sbyte v: sink.Write(v); break;
            case ushort v: sink.Write(v); break;
            case short v: sink.Write(v); break;
            case uint v: sink.Write(v); break;
            case int v: sink.Write(v); break;
            case float v: sink.Write(v); break;
            case ulong v: sink.Write(v); break;
            case long v: sink.Write(v); break;
            case double v: sink.Write(v); break;
            default: throw new InvalidOperationException($"Not a GGUF scalar: {scalar.GetType().Name}.");
        }
    }

    private static void WriteString(BinaryWriter sink, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        sink.Write((ulong)bytes.Length);
        sink.Write(bytes);
    }

    private static void Pad(Stream output, long count)
    {
        Span<byte> zeros = stackalloc byte[64];
        zeros.Clear();
        for (; count > 0; count -= zeros.Length)
        {
            output.Write(zeros[..(int)Math.Min(count, zeros.Length)]);
        }
    }
}
