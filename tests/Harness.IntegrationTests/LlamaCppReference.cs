using LLama;
using LLama.Common;
using LLama.Native;

namespace Harness.IntegrationTests;

/// <summary>Stock llama.cpp (through LLamaSharp, no harness code) as the reference a forged model is checked against.</summary>
internal static class LlamaCppReference
{
    /// <summary>llama.cpp's tokens for <paramref name="text"/> (with BOS) and its logits at every position, copied out.</summary>
    /// <param name="f32Attention">Keep K and V in F32 instead of llama.cpp's default F16 and turn flash attention off
    /// (its CPU kernel rounds to F16 too: 7.6e-4 on a logit at position 0), to compare with an F32 runtime.</param>
    public static (int[] Tokens, float[][] Logits) Run(string modelPath, string text, int contextSize = 256, bool f32Attention = false)
    {
        var parameters = new ModelParams(modelPath) { ContextSize = (uint)contextSize, Threads = 1, GpuLayerCount = 0 };
        if (f32Attention)
        {
            parameters.TypeK = GGMLType.GGML_TYPE_F32;
            parameters.TypeV = GGMLType.GGML_TYPE_F32;
            parameters.FlashAttention = false;
        }

        using var weights = LLamaWeights.LoadFromFile(parameters);
        using var context = weights.CreateContext(parameters);
        var tokens = context.Tokenize(text, addBos: true, special: false).Select(t => (int)t).ToArray();
        var batch = new LLamaBatch();
        for (var i = 0; i < tokens.Length; i++)
        {
            batch.Add(tokens[i], i, LLamaSeqId.Zero, logits: true);
        }

        var result = context.NativeHandle.Decode(batch);
        if (result != DecodeResult.Ok)
        {
            throw new InvalidOperationException($"llama.cpp decode of {modelPath} returned {result}");
        }

        // Each span views native memory that the next decode would overwrite: copy.
        return (tokens, [.. Enumerable.Range(0, tokens.Length).Select(i => context.NativeHandle.GetLogitsIth(i).ToArray())]);
    }
}
