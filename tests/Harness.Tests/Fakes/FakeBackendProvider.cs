using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Tests.Fakes;

/// <summary>A registry entry around a fake backend: what it can do is given, and a describe can be made to fail.</summary>
internal sealed class FakeBackendProvider(
    IModelBackend backend, BackendCapabilities? capabilities = null, BackendKind kind = BackendKind.LlamaCpp) : IBackendProvider
{
    /// <summary>Every ability, in a worker process: what llama.cpp declares.</summary>
    public static BackendCapabilities Everything { get; } = new(
        BackendAbilities.Generate | BackendAbilities.LogLikelihood | BackendAbilities.TokenDistributions
            | BackendAbilities.BatchedGeneration | BackendAbilities.ThroughputProbe | BackendAbilities.GrammarConstrainedGeneration,
        EnergyScope.WorkerProcess,
        ImmutableSortedDictionary<BackendAbilities, string>.Empty);

    public BackendKind Kind => kind;

    public IModelBackend Backend => backend;

    public ImmutableSortedDictionary<string, string> Versions { get; init; } =
        ImmutableSortedDictionary<string, string>.Empty.Add("fake-runtime", "1.0");

    public ImmutableSortedDictionary<string, string> Identity { get; init; } = ImmutableSortedDictionary<string, string>.Empty;

    /// <summary>When set, describing fails with this message (a server that does not answer).</summary>
    public string? DescribeFailure { get; init; }

    /// <summary>(model id, location) of every describe, in order.</summary>
    public List<(string ModelId, string Location)> Described { get; } = [];

    public Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken)
    {
        Described.Add((model.Id, location));
        return DescribeFailure is { } failure
            ? throw new ModelLoadException(failure)
            : Task.FromResult(new BackendDescription(capabilities ?? Everything, Identity));
    }

    /// <summary>A registry with only <paramref name="backend"/>, for every llama.cpp (GGUF) model.</summary>
    public static BackendRegistry Registry(IModelBackend backend) => new([new FakeBackendProvider(backend)]);
}
