using System.Text;

namespace Harness.IntegrationTests.Llama;

/// <summary>Derives test GGUF files from a real one (the shared models carry no chat template).</summary>
internal static class GgufTestFiles
{
    private const uint TypeUInt32 = 4, TypeString = 8, TypeArray = 9;

    /// <summary>Copies <paramref name="source"/> to <paramref name="destination"/> with one extra string metadata entry.</summary>
    public static void CopyWithStringMetadata(string source, string destination, string key, string value)
    {
        var bytes = File.ReadAllBytes(source);
        using var input = new BinaryReader(new MemoryStream(bytes));
        if (Encoding.ASCII.GetString(input.ReadBytes(4)) != "GGUF")
            throw new InvalidDataException($"'{source}' is not a GGUF file.");
        var version = input.ReadUInt32();
        var tensorCount = input.ReadUInt64();
        var kvCount = input.ReadUInt64();
        var kvStart = input.BaseStream.Position;

        var alignment = 32u;
        for (ulong i = 0; i < kvCount; i++)
        {
            var name = ReadString(input);
            var type = input.ReadUInt32();
            if (name == "general.alignment" && type == TypeUInt32)
                alignment = input.ReadUInt32();
            else
                SkipValue(input, type);
        }
        var kvEnd = input.BaseStream.Position;

        for (ulong i = 0; i < tensorCount; i++)
        {
            ReadString(input);
            var dims = input.ReadUInt32();
            input.BaseStream.Position += 8L * dims + 4 + 8; // shape, ggml type, data offset
        }
        var infoEnd = input.BaseStream.Position;
        var dataStart = Align(infoEnd, alignment);

        using var output = new BinaryWriter(File.Create(destination));
        output.Write("GGUF"u8);
        output.Write(version);
        output.Write(tensorCount);
        output.Write(kvCount + 1);
        output.Write(bytes, (int)kvStart, (int)(kvEnd - kvStart));
        WriteString(output, key);
        output.Write(TypeString);
        WriteString(output, value);
        output.Write(bytes, (int)kvEnd, (int)(infoEnd - kvEnd));
        // Tensor offsets are relative to the data section, so only the padding before it changes.
        while (output.BaseStream.Position % alignment != 0)
            output.Write((byte)0);
        output.Write(bytes, (int)dataStart, bytes.Length - (int)dataStart);
    }

    /// <summary>Copies <paramref name="source"/> with every element of the F32 tensor <paramref name="tensorName"/> set to <paramref name="value"/>.</summary>
    public static void CopyWithF32TensorFilled(string source, string destination, string tensorName, float value)
    {
        var bytes = File.ReadAllBytes(source);
        using var input = new BinaryReader(new MemoryStream(bytes));
        input.BaseStream.Position = 8;
        var tensorCount = input.ReadUInt64();
        var kvCount = input.ReadUInt64();
        var alignment = 32u;
        for (ulong i = 0; i < kvCount; i++)
        {
            var name = ReadString(input);
            var type = input.ReadUInt32();
            if (name == "general.alignment" && type == TypeUInt32)
                alignment = input.ReadUInt32();
            else
                SkipValue(input, type);
        }

        (long Offset, long Elements)? target = null;
        for (ulong i = 0; i < tensorCount; i++)
        {
            var name = ReadString(input);
            var dims = input.ReadUInt32();
            var elements = 1L;
            for (var d = 0; d < dims; d++)
                elements *= checked((long)input.ReadUInt64());
            var ggmlType = input.ReadUInt32();
            var offset = checked((long)input.ReadUInt64());
            if (name == tensorName)
            {
                if (ggmlType != 0)
                    throw new InvalidDataException($"Tensor '{tensorName}' in '{source}' has ggml type {ggmlType}, not F32.");
                target = (offset, elements);
            }
        }
        if (target is not { } t)
            throw new InvalidDataException($"Tensor '{tensorName}' not found in '{source}'.");

        var dataStart = Align(input.BaseStream.Position, alignment);
        var filled = BitConverter.GetBytes(value);
        for (long e = 0; e < t.Elements; e++)
            filled.CopyTo(bytes, dataStart + t.Offset + 4 * e);
        File.WriteAllBytes(destination, bytes);
    }

    private static long Align(long position, uint alignment) => (position + alignment - 1) / alignment * alignment;

    private static string ReadString(BinaryReader input) => Encoding.UTF8.GetString(input.ReadBytes(checked((int)input.ReadUInt64())));

    private static void WriteString(BinaryWriter output, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        output.Write((ulong)bytes.Length);
        output.Write(bytes);
    }

    private static void SkipValue(BinaryReader input, uint type)
    {
        switch (type)
        {
            case TypeString:
                ReadString(input);
                break;
            case TypeArray:
                var elementType = input.ReadUInt32();
                var count = input.ReadUInt64();
                for (ulong i = 0; i < count; i++)
                    SkipValue(input, elementType);
                break;
            default:
                input.BaseStream.Position += type switch
                {
                    0 or 1 or 7 => 1, // (u)int8, bool
                    2 or 3 => 2,
                    4 or 5 or 6 => 4,
                    10 or 11 or 12 => 8,
                    _ => throw new InvalidDataException($"Unknown GGUF value type {type}."),
                };
                break;
        }
    }
}
