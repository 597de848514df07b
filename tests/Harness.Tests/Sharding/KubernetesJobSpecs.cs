using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Harness.Core.Serialization.Yaml;
using Harness.Core.Sharding;

namespace Harness.Tests.Sharding;

/// <summary>
/// The job specs the <c>--emit k8s</c> tests emit, and the YAML-to-JSON reading they share: the unit tests
/// (KubernetesJobEmitterTests) and the integration tests that validate the emitted Jobs with kubernetes-models
/// (Harness.IntegrationTests/ScaleOut/KubernetesManifestValidationTests, which links this file) check the same documents.
/// </summary>
internal static class KubernetesJobSpecs
{
    public static SchedulerJobSpec Spec(
        string planDirectory = "/data/runs/study/plan",
        string runId = "20261207-183000-ab12cd",
        int shards = 3,
        ImmutableArray<string>? shared = null,
        string? image = null,
        string? claim = null,
        string harness = "dotnet /opt/harness/harness.dll") =>
        new(planDirectory, runId, shards, new ShardResources(6, 5L * 1024 * 1024 * 1024 + 1), harness,
            shared ?? [planDirectory, "/data/models.manifest", "/data/tasks/arith", "/data/models/tiny.gguf"], image, claim);

    /// <summary>Specs by a name that says what is special about each (theory data names, in this order).</summary>
    public static readonly IReadOnlyDictionary<string, SchedulerJobSpec> ByName = new Dictionary<string, SchedulerJobSpec>(StringComparer.Ordinal)
    {
        ["defaults"] = Spec(),
        ["image and claim"] = Spec(image: "registry.example.org/team/harness:1.4.0", claim: "eval-volume"),
        ["one shard"] = Spec(shards: 1),
        ["500 shards"] = Spec(shards: 500),
        ["odd run id"] = Spec(runId: "Quant Study_2026.12/Run #7 (ümlaut) " + new string('x', 120)),
        ["paths with space, colon, quote and hash"] = Spec(
            planDirectory: "/mnt/eval data/plan: q4 'final' #2",
            shared: ["/mnt/eval data/plan: q4 'final' #2", "/mnt/eval data/models/a b.gguf", "/mnt/eval data/tasks/x:y"]),
    };

    /// <summary>The YAML as the harness's one YAML reader types it (YAML 1.2 core schema), as JSON.</summary>
    public static JsonElement ToJson(string yaml)
    {
        var problems = new List<string>();
        var root = YamlSource.Load(Encoding.UTF8.GetBytes(yaml), (line, problem) => problems.Add($"line {line}: {problem}"));
        Assert.True(root is not null && problems.Count == 0, string.Join('\n', problems));
        var json = YamlScalars.ToJson(root, "job", (line, problem) => problems.Add($"line {line}: {problem}"));
        Assert.True(json is not null && problems.Count == 0, string.Join('\n', problems));
        return json.Value;
    }
}
