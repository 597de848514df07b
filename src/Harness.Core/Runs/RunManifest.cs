using System.Collections.Immutable;
using Harness.Core.Comparison;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Models;
using Harness.Core.Suites;

namespace Harness.Core.Runs;

/// <summary>
/// <c>results/&lt;run-id&gt;/run.json</c>: what was asked for and on what machine. Written before the first
/// item; a resume reads it back and continues exactly this plan.
/// </summary>
/// <param name="Comparison">Set by <c>harness compare</c>: the base, the candidates and the drift settings.</param>
/// <param name="Energy">The meters probed and used, the estimate's parameters and the power state at the start.</param>
/// <param name="Contention">How contention is sampled and the thresholds above which latency and energy ceilings go
/// undecided; null for runs planned before it was recorded.</param>
/// <param name="Judges">Models named by the suites' <c>judge</c> scorers, resolved with their files and sha256; null when no suite is judged.</param>
/// <param name="Sequential">The suites evaluated until decided and the seed of their item order; null: every suite runs in full.</param>
/// <param name="Watchdog">The rules that derived load and request deadlines (a model's fixed deadlines, from the manifest
/// or the CLI, are in its entry's backend options); null where the backend has no watchdog (in-process backends).</param>
public sealed record RunManifest(
    int SchemaVersion,
    string RunId,
    DateTimeOffset CreatedAt,
    string ManifestPath,
    string ManifestSha256,
    ImmutableArray<RunModel> Models,
    ImmutableArray<RunSuite> Suites,
    HostFacts Host,
    ImmutableSortedDictionary<string, string> Versions,
    ComparisonPlan? Comparison = null,
    EnergyPlan? Energy = null,
    JudgePlan? Judges = null,
    ContentionPlan? Contention = null,
    SequentialPlan? Sequential = null,
    Backends.WatchdogSettings? Watchdog = null)
{
    public const int CurrentSchemaVersion = 1;
}

/// <summary>A model as planned: its manifest entry, the resolved file and its sha256.</summary>
/// <param name="ResolvedPath">The local file or folder; a served model's endpoint URL.</param>
/// <param name="FileSha256">The file's sha256 (a folder's: see docs/result-format.md); empty for a served model, which has no
/// local file (its <see cref="RunBackend.Identity"/> says what answered), and for a model that did not resolve.</param>
/// <param name="FileSizeBytes">0 for a served model: it has no file size.</param>
/// <param name="Backend">What the model's backend said it can do before the first item; null in runs planned before it was recorded.</param>
public sealed record RunModel(ModelEntry Entry, string ResolvedPath, string FileSha256, long FileSizeBytes, RunBackend? Backend = null)
{
    /// <summary>Weights behind a server: no local file, so no file size to rank or show.</summary>
    public bool Served => Entry.Format == ModelFormat.Served;
}

/// <summary>A model's backend as described at planning time (<see cref="Backends.IBackendProvider.DescribeAsync"/>).</summary>
/// <param name="Abilities">What it can do for this model.</param>
/// <param name="Energy">Which energy figures can describe its work.</param>
/// <param name="Missing">Why each ability it lacks is missing, keyed by the ability's name (e.g. <c>logLikelihood</c>).</param>
/// <param name="Identity">What the backend says answers (a server's model id, digest, build); empty for a local file,
/// whose sha256 identifies it.</param>
public sealed record RunBackend(
    Backends.BackendKind Kind,
    Backends.BackendAbilities Abilities,
    Backends.EnergyScope Energy,
    ImmutableSortedDictionary<string, string> Missing,
    ImmutableSortedDictionary<string, string> Identity)
{
    public static RunBackend From(Backends.BackendKind kind, Backends.BackendDescription description)
    {
        ArgumentNullException.ThrowIfNull(description);
        var capabilities = description.Capabilities;
        return new RunBackend(
            kind,
            capabilities.Abilities,
            capabilities.Energy,
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, capabilities.Missing.Select(m =>
                KeyValuePair.Create(System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(m.Key.ToString()), m.Value))),
            description.Identity.WithComparers(StringComparer.Ordinal));
    }
}

/// <summary>A suite as planned, with every setting that decides its scores.</summary>
public sealed record RunSuite(
    string Name,
    int Version,
    SuiteKind Kind,
    string Directory,
    string ContentSha256,
    RequestKind Request,
    GenerationSettings Generation,
    ImmutableArray<ScorerSpec> Scorers,
    Requirement? Requirement,
    int ItemCount);

/// <summary>The machine a run happened on.</summary>
public sealed record HostFacts(
    string CpuModel,
    ImmutableArray<string> CpuFeatures,
    int LogicalCores,
    long TotalMemoryBytes,
    string OperatingSystem,
    string Architecture,
    string DotnetVersion,
    bool DebugBuild,
    string HostName);

/// <summary>The judge models of a run: identity (entry, file, sha256) is recorded before any judgement.</summary>
public sealed record JudgePlan(ImmutableArray<RunModel> Models);

/// <summary>
/// Suites that stop as soon as their sequential verdict decides (<c>--until-decided</c> or <c>requirement.sequential</c>),
/// with the item order of each, drawn once by <see cref="ItemOrder"/> from <paramref name="OrderSeed"/> and recorded, so a
/// resume and every report rebuilt later replay the same order.
/// </summary>
/// <param name="Mode"><c>until-decided</c>: every fixed suite that can (the option); <c>suite</c>: only the suites whose
/// suite.yaml asks for it.</param>
/// <param name="Orders">Suite name to its item ids in evaluation order.</param>
public sealed record SequentialPlan(string Mode, int OrderSeed, ImmutableSortedDictionary<string, ImmutableArray<string>> Orders)
{
    /// <summary>The option <c>--until-decided</c>.</summary>
    public const string UntilDecided = "until-decided";

    /// <summary>Only suites with <c>requirement.sequential: true</c>.</summary>
    public const string SuiteRequested = "suite";

    /// <summary>The item order of <paramref name="suiteName"/>, or null when it runs in full.</summary>
    public ImmutableArray<string>? OrderOf(string suiteName) =>
        Orders.TryGetValue(suiteName, out var order) ? order : null;
}
