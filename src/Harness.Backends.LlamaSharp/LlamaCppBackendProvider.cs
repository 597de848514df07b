using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Backends.LlamaSharp;

/// <summary>
/// llama.cpp (LLamaSharp) as the registry knows it, in process: what <c>harness worker --backend llamacpp</c> hosts and
/// <c>harness bench</c> measures. The CLI runs its models in worker processes by wrapping this provider.
/// </summary>
/// <param name="nativeLog">Where llama.cpp's own log lines go; null: nowhere.</param>
public sealed class LlamaCppBackendProvider(TextWriter? nativeLog = null) : IBackendProvider
{
    /// <summary>Every ability of a llama.cpp session: the same for every GGUF model, known without loading one.</summary>
    public static BackendCapabilities Capabilities { get; } = new(
        BackendAbilities.Generate | BackendAbilities.LogLikelihood | BackendAbilities.TokenDistributions
            | BackendAbilities.BatchedGeneration | BackendAbilities.ThroughputProbe | BackendAbilities.GrammarConstrainedGeneration,
        EnergyScope.WorkerProcess,
        ImmutableSortedDictionary<BackendAbilities, string>.Empty);

    public BackendKind Kind => BackendKind.LlamaCpp;

    public IModelBackend Backend { get; } = new LlamaSharpBackend(nativeLog);

    public ImmutableSortedDictionary<string, string> Versions => LlamaNativeRuntime.StaticVersions();

    // A local GGUF file is identified by its sha256 (run.json), so the identity is empty.
    public Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken) =>
        Task.FromResult(new BackendDescription(Capabilities, ImmutableSortedDictionary<string, string>.Empty));
}
