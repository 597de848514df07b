using System.Collections.Immutable;

namespace Harness.Core.Backends;

/// <summary>What a backend can do for a model; each flag is one optional interface its sessions implement.</summary>
[Flags]
public enum BackendAbilities
{
    None = 0,

    /// <summary><see cref="ITextGenerator"/>: generate-until (every backend).</summary>
    Generate = 1,

    /// <summary><see cref="ILogLikelihoodScorer"/>: multiple-choice suites.</summary>
    LogLikelihood = 2,

    /// <summary><see cref="ITokenDistributionProbe"/>: the drift pass of <c>harness compare</c> and perplexity.</summary>
    TokenDistributions = 4,

    /// <summary><see cref="IBatchedTextGenerator"/> with more than one sequence (or request) in flight.</summary>
    BatchedGeneration = 8,

    /// <summary><see cref="IThroughputProbe"/>: <c>harness bench</c> on synthetic tokens.</summary>
    ThroughputProbe = 16,

    /// <summary>Generation constrained by a llama.cpp GBNF grammar (<see cref="Suites.GenerationSettings.Grammar"/>): what the
    /// pointwise and pairwise judges read their verdicts from.</summary>
    GrammarConstrainedGeneration = 32,
}

/// <summary>Where a backend's work happens, and so which energy figures can describe it.</summary>
public enum EnergyScope
{
    /// <summary>In a worker process of this run: machine-wide meters and the CPU-time estimate of that process both apply.</summary>
    WorkerProcess,

    /// <summary>In another process on this machine (a local server): machine-wide meters measure it; the CPU-time estimate
    /// cannot (the client's CPU time is not the answer's cost) and is not reported.</summary>
    OtherLocalProcess,

    /// <summary>On another machine: energy is not measured.</summary>
    Remote,
}

/// <summary>
/// What a backend can do for one model, known before the first item so that a suite the backend cannot serve is refused
/// at planning time with the reason.
/// </summary>
/// <param name="Abilities">What it can do.</param>
/// <param name="Energy">Which energy figures can describe its work.</param>
/// <param name="Missing">Why each ability it lacks is missing, in words a user can act on (e.g. "llama-server rejects
/// echo, so /v1/completions cannot return prompt log-probabilities").</param>
public sealed record BackendCapabilities(
    BackendAbilities Abilities, EnergyScope Energy, ImmutableSortedDictionary<BackendAbilities, string> Missing)
{
    public bool Has(BackendAbilities ability) => (Abilities & ability) == ability;

    /// <summary>The reason <paramref name="ability"/> is unavailable, or null when it is available.</summary>
    public string? WhyNot(BackendAbilities ability) =>
        Has(ability) ? null : Missing.TryGetValue(ability, out var reason) ? reason : $"the backend cannot {Describe(ability)}";

    public static string Describe(BackendAbilities ability) => ability switch
    {
        BackendAbilities.Generate => "generate text",
        BackendAbilities.LogLikelihood => "score continuations by log-likelihood",
        BackendAbilities.TokenDistributions => "return next-token distributions",
        BackendAbilities.BatchedGeneration => "generate several requests at once",
        BackendAbilities.ThroughputProbe => "measure throughput on synthetic tokens",
        BackendAbilities.GrammarConstrainedGeneration => "constrain generation with a GBNF grammar",
        _ => ability.ToString(),
    };
}
