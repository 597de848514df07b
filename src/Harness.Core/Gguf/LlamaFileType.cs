using System.Collections.Immutable;

namespace Harness.Core.Gguf;

/// <summary>
/// llama.cpp's <c>llama_ftype</c> (the <c>general.file_type</c> key), rendered with the short names that
/// llama-quantize takes (e.g. <c>Q4_K_M</c>); llama.cpp itself prints long forms such as "Q4_K - Medium".
/// </summary>
public static class LlamaFileType
{
    /// <summary>llama.cpp ORs this bit into a file type it guessed from the tensors.</summary>
    public const int GuessedFlag = 1024;

    // Ids and meanings checked against llama_ftype_name of the shipped libllama.so.
    private static readonly ImmutableDictionary<int, string> ShortNames = new Dictionary<int, string>
    {
        [0] = "F32", [1] = "F16", [2] = "Q4_0", [3] = "Q4_1", [7] = "Q8_0", [8] = "Q5_0", [9] = "Q5_1",
        [10] = "Q2_K", [11] = "Q3_K_S", [12] = "Q3_K_M", [13] = "Q3_K_L", [14] = "Q4_K_S", [15] = "Q4_K_M",
        [16] = "Q5_K_S", [17] = "Q5_K_M", [18] = "Q6_K", [19] = "IQ2_XXS", [20] = "IQ2_XS", [21] = "Q2_K_S",
        [22] = "IQ3_XS", [23] = "IQ3_XXS", [24] = "IQ1_S", [25] = "IQ4_NL", [26] = "IQ3_S", [27] = "IQ3_M",
        [28] = "IQ2_S", [29] = "IQ2_M", [30] = "IQ4_XS", [31] = "IQ1_M", [32] = "BF16", [36] = "TQ1_0",
        [37] = "TQ2_0", [38] = "MXFP4_MOE", [39] = "NVFP4", [40] = "Q1_0", [41] = "Q2_0",
    }.ToImmutableDictionary();

    /// <summary><c>ALL_F32</c>: every tensor is F32.</summary>
    public const int AllF32 = 0;

    /// <summary><c>MOSTLY_F16</c>: matrices are F16 (norms stay F32).</summary>
    public const int MostlyF16 = 1;

    // The tensor type a file type is named for; mixes (the _S/_M/_L variants) also give some tensors a larger type.
    private static readonly ImmutableDictionary<string, GgmlType> NamedTypes = new Dictionary<string, GgmlType>(StringComparer.OrdinalIgnoreCase)
    {
        ["F32"] = GgmlType.F32, ["F16"] = GgmlType.F16, ["BF16"] = GgmlType.BF16,
        ["Q8_0"] = GgmlType.Q8_0, ["Q5_0"] = GgmlType.Q5_0, ["Q5_1"] = GgmlType.Q5_1, ["Q4_0"] = GgmlType.Q4_0, ["Q4_1"] = GgmlType.Q4_1,
        ["Q6_K"] = GgmlType.Q6_K, ["Q5_K_S"] = GgmlType.Q5_K, ["Q5_K_M"] = GgmlType.Q5_K, ["Q4_K_S"] = GgmlType.Q4_K, ["Q4_K_M"] = GgmlType.Q4_K,
        ["Q3_K_S"] = GgmlType.Q3_K, ["Q3_K_M"] = GgmlType.Q3_K, ["Q3_K_L"] = GgmlType.Q3_K, ["Q2_K"] = GgmlType.Q2_K, ["Q2_K_S"] = GgmlType.Q2_K,
    }.ToImmutableDictionary(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The tensor type most weight matrices get under the file type <paramref name="shortName"/> (<c>Q4_K_M</c> gives
    /// <see cref="GgmlType.Q4_K"/>), or null for file types not listed.
    /// </summary>
    public static GgmlType? NamedTensorType(string shortName) =>
        NamedTypes.TryGetValue(shortName, out var type) ? type : null;

    /// <summary>The short name of a <c>general.file_type</c> value, or null when llama.cpp does not know it.</summary>
    public static string? ShortName(long fileType) =>
        fileType is >= 0 and <= int.MaxValue && ShortNames.TryGetValue((int)fileType & ~GuessedFlag, out var name) ? name : null;
}
