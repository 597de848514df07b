namespace Harness.Core.Gguf;

/// <summary>
/// Tensor element types by their ggml id, as shipped in LLamaSharp 0.30.0's native library (llama.cpp c0c7e14).
/// Ids 4, 5, 31-33 and 36-38 were retired upstream and never appear in valid files.
/// </summary>
public enum GgmlType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ2_XXS = 16,
    IQ2_XS = 17,
    IQ3_XXS = 18,
    IQ1_S = 19,
    IQ4_NL = 20,
    IQ3_S = 21,
    IQ2_S = 22,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    IQ1_M = 29,
    BF16 = 30,
    TQ1_0 = 34,
    TQ2_0 = 35,
    MXFP4 = 39,
    NVFP4 = 40,
    Q1_0 = 41,
    Q2_0 = 42,
}

/// <summary>Block layout of each <see cref="GgmlType"/>: how many elements share one block and its byte size.</summary>
public static class GgmlTypeInfo
{
    // (elements per block, bytes per block), indexed by type id. Checked against ggml_blck_size/ggml_type_size
    // of the shipped libggml-base.so; a zero marks a retired id.
    private static readonly (int BlockSize, int BlockBytes)[] Layout =
    [
        (1, 4), (1, 2), (32, 18), (32, 20), (0, 0), (0, 0), (32, 22), (32, 24), (32, 34), (32, 36),
        (256, 84), (256, 110), (256, 144), (256, 176), (256, 210), (256, 292),
        (256, 66), (256, 74), (256, 98), (256, 50), (32, 18), (256, 110), (256, 82), (256, 136),
        (1, 1), (1, 2), (1, 4), (1, 8), (1, 8), (256, 56), (1, 2),
        (0, 0), (0, 0), (0, 0), (256, 54), (256, 66), (0, 0), (0, 0), (0, 0),
        (32, 17), (64, 36), (128, 18), (64, 18),
    ];

    /// <summary>True when <paramref name="id"/> is a type a valid file may use.</summary>
    public static bool IsKnown(uint id) => id < (uint)Layout.Length && Layout[id].BlockSize > 0;

    /// <summary>Elements per quantization block (1 for plain types).</summary>
    public static int BlockSize(GgmlType type) => Get(type).BlockSize;

    /// <summary>Bytes per quantization block.</summary>
    public static int BlockBytes(GgmlType type) => Get(type).BlockBytes;

    /// <summary>Bytes of a row of <paramref name="elements"/> values; the count must be a whole number of blocks.</summary>
    /// <exception cref="ArgumentException">Not a whole number of blocks.</exception>
    /// <exception cref="OverflowException">The size does not fit in a long.</exception>
    public static long SizeBytes(GgmlType type, long elements)
    {
        var (blockSize, blockBytes) = Get(type);
        if (elements < 0 || elements % blockSize != 0)
        {
            throw new ArgumentException($"{elements} elements is not a whole number of {type} blocks of {blockSize}.", nameof(elements));
        }

        return checked(elements / blockSize * blockBytes);
    }

    private static (int BlockSize, int BlockBytes) Get(GgmlType type) =>
        IsKnown((uint)type) ? Layout[(int)type] : throw new ArgumentOutOfRangeException(nameof(type), type, "Unknown or retired ggml type.");
}
