using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Backends.OnnxGenAI;

/// <summary>
/// The ONNX Runtime GenAI backend as the registry knows it. <see cref="Backend"/> is the in-process loader; the CLI hosts
/// it in <c>harness worker --backend onnx-genai</c>, as it hosts llama.cpp's.
/// </summary>
/// <param name="timeProvider">Clock for load time and request timings; the system clock when null.</param>
public sealed class OnnxGenAiBackendProvider(TimeProvider? timeProvider = null) : IBackendProvider
{
    private static readonly BackendCapabilities Capabilities = new(
        BackendAbilities.Generate | BackendAbilities.LogLikelihood | BackendAbilities.TokenDistributions,
        EnergyScope.WorkerProcess,
        ImmutableSortedDictionary.CreateRange(new Dictionary<BackendAbilities, string>
        {
            [BackendAbilities.BatchedGeneration] = "the onnx-genai backend decodes one sequence at a time",
            [BackendAbilities.ThroughputProbe] = "the onnx-genai backend has no synthetic-token throughput probe (harness bench is llama.cpp's)",
            [BackendAbilities.GrammarConstrainedGeneration] = "the onnx-genai backend does not take llama.cpp GBNF grammars",
        }));

    public BackendKind Kind => BackendKind.OnnxGenAi;

    public IModelBackend Backend { get; } = new OnnxGenAiBackend(timeProvider);

    /// <summary>GenAI's package version, the native ONNX Runtime's own version and the build's execution provider.</summary>
    /// <exception cref="DllNotFoundException">The native ONNX Runtime is missing from the build output.</exception>
    public ImmutableSortedDictionary<string, string> Versions => OnnxGenAiRuntime.Versions();

    /// <summary>Checks the folder (genai_config.json, decoder file) without loading the model.</summary>
    /// <exception cref="ModelLoadException">The folder is missing, is a file, or has no usable genai_config.json.</exception>
    public Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(location);
        cancellationToken.ThrowIfCancellationRequested();
        _ = OnnxGenAiFolder.Inspect(model, location);
        // A local folder: the run hashes its files, so there is no served identity to record.
        return Task.FromResult(new BackendDescription(Capabilities, ImmutableSortedDictionary<string, string>.Empty));
    }
}
