using System.Collections.Immutable;

namespace Harness.Core.Backends;

/// <summary>What a backend reports about a loaded model; stored per (run, model).</summary>
/// <param name="EffectiveSettings">Every backend setting as actually applied (threads, context size, batch, gpu layers, template, KV cache).</param>
/// <param name="Versions">Library versions, e.g. <c>LLamaSharp=0.30.0</c>, <c>llama.cpp=c0c7e14</c>, native variant.</param>
/// <param name="ParallelSequences">Sequences the session decodes together (see <see cref="IBatchedTextGenerator"/>); 1 without batching.</param>
public sealed record ModelLoadInfo(
    string Backend,
    TimeSpan LoadTime,
    long FileSizeBytes,
    long ResidentMemoryAfterLoadBytes,
    string ChatTemplate,
    ImmutableSortedDictionary<string, string> EffectiveSettings,
    ImmutableSortedDictionary<string, string> Versions,
    int ParallelSequences = 1);
