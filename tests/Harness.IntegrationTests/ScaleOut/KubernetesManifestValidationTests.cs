using System.Collections.Immutable;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Sharding;
using Harness.IntegrationTests.LmEval;
using Harness.Tests.Sharding;

namespace Harness.IntegrationTests.ScaleOut;

/// <summary>
/// The Jobs <c>harness plan --emit k8s</c> writes, validated the way a cluster would type-check them: every document,
/// read back as YAML 1.2 and turned into JSON, goes through tests/crosscheck/validate-k8s.mjs, which runs kubernetes-models
/// 5.1.0 (validators generated from Kubernetes v1.36.0's OpenAPI definitions: JSON types, required fields, enum values,
/// formats) and its own unknown-field check. The broken copies prove that each kind of mistake is caught.
/// </summary>
public sealed class KubernetesManifestValidationTests
{
    private const string Package = "kubernetes-models";

    private static readonly TimeSpan NodeTimeout = TimeSpan.FromMinutes(1);

    public static TheoryData<string> Specs => new(KubernetesJobSpecs.ByName.Keys);

    [RequiresKubernetesModelsTheory]
    [MemberData(nameof(Specs))]
    public async Task Every_emitted_job_passes_kubernetes_models_validation(string name)
    {
        var files = new KubernetesJobEmitter().Emit(KubernetesJobSpecs.ByName[name]);

        var (exitCode, results) = await ValidateAsync([.. files.Select(f => JsonNode.Parse(KubernetesJobSpecs.ToJson(f.Content).GetRawText()))]);

        Assert.Equal(files.Count, results.Length);
        for (var i = 0; i < files.Count; i++)
        {
            Assert.Equal("Job", results[i].Kind);
            Assert.True(results[i].Errors.IsEmpty, $"{name}, {files[i].RelativePath}:\n{string.Join('\n', results[i].Errors)}\n---\n{files[i].Content}");
        }
        Assert.Equal(0, exitCode);
    }

    [RequiresKubernetesModelsFact]
    public async Task The_files_harness_plan_writes_for_both_schedulers_validate_and_name_the_plan()
    {
        using var ws = new Cli.HarnessProcess.Workspace();
        var plan = Path.Combine(ws.Root, "plans", "study");

        var result = await Cli.HarnessProcess.RunAsync(ws.Root, TimeSpan.FromMinutes(2),
            "plan", "--shards", "4", "--output", plan, "--model", "tiny-bigram", "--suite", "tasks/arith", "--emit", "k8s", "--emit", "slurm",
            "--k8s-image", "registry.example/harness:1");

        Assert.True(result.ExitCode == 0, $"{result.Output}\n{result.Error}");
        List<string> jobs = [File.ReadAllText(Path.Combine(plan, "k8s", "shards-job.yaml")), File.ReadAllText(Path.Combine(plan, "k8s", "merge-job.yaml"))];
        var (exitCode, results) = await ValidateAsync([.. jobs.Select(j => JsonNode.Parse(KubernetesJobSpecs.ToJson(j).GetRawText()))]);
        Assert.True(exitCode == 0, string.Join('\n', results.SelectMany(r => r.Errors)));
        Assert.Contains("completions: 4", jobs[0], StringComparison.Ordinal);
        Assert.Contains("registry.example/harness:1", jobs[0], StringComparison.Ordinal);
        Assert.Contains(plan, jobs[1], StringComparison.Ordinal);
        Assert.Contains("#SBATCH --array=0-3", File.ReadAllText(Path.Combine(plan, "slurm", "shards.sbatch")), StringComparison.Ordinal);
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(Path.Combine(plan, "slurm", "submit.sh")).HasFlag(UnixFileMode.UserExecute));
    }

    public static TheoryData<string> Breakages => new(BreakagesByName.Keys);

    /// <summary>A change to the emitted shards Job and the error the validator must report for it.</summary>
    private static readonly Dictionary<string, (Action<JsonObject> Break, string Error)> BreakagesByName = new(StringComparer.Ordinal)
    {
        ["a completion mode Kubernetes does not have"] = (
            job => job["spec"]!["completionMode"] = "Bogus",
            "data/spec/completionMode must be equal to one of the allowed values (Indexed, NonIndexed)"),
        ["a string where an integer belongs"] = (
            job => job["spec"]!["completions"] = "3",
            "data/spec/completions must be integer"),
        ["a container without its required name"] = (
            job => Container(job).Remove("name"),
            "data/spec/template/spec/containers/0 must have required property name"),
        ["an unknown field under spec"] = (
            job => job["spec"]!["completionsPerShard"] = 3,
            "data/spec has unknown field \"completionsPerShard\""),
        ["a misspelt volume mount field"] = (
            job => Rename(Mount(job), "mountPath", "mountpath"),
            "data/spec/template/spec/containers/0/volumeMounts/0 has unknown field \"mountpath\""),
        ["an unknown field in a container"] = (
            job => Container(job)["cpus"] = 6,
            "data/spec/template/spec/containers/0 has unknown field \"cpus\""),
        ["a restart policy Kubernetes does not have"] = (
            job => Pod(job)["restartPolicy"] = "Sometimes",
            "data/spec/template/spec/restartPolicy must be equal to one of the allowed values"),
        ["a memory size that is not a quantity"] = (
            job => Container(job)["resources"]!["limits"]!["memory"] = "5 GiB",
            "data/spec/template/spec/containers/0/resources/limits/memory must match format \"quantity\""),
        ["a claim without claimName"] = (
            job => ((JsonObject)Pod(job)["volumes"]![0]!["persistentVolumeClaim"]!).Remove("claimName"),
            "data/spec/template/spec/volumes/0/persistentVolumeClaim must have required property claimName"),
    };

    [RequiresKubernetesModelsTheory]
    [MemberData(nameof(Breakages))]
    public async Task A_broken_copy_is_refused_so_the_validator_bites(string breakage)
    {
        var emitted = KubernetesJobSpecs.ToJson(new KubernetesJobEmitter().Emit(KubernetesJobSpecs.Spec())[0].Content).GetRawText();
        var broken = (JsonObject)JsonNode.Parse(emitted)!;
        var (change, error) = BreakagesByName[breakage];
        change(broken);

        // The untouched copy goes in the same call: the refusal is the change's, not the validator's on anything.
        var (exitCode, results) = await ValidateAsync([JsonNode.Parse(emitted), broken]);

        Assert.Equal(2, results.Length);
        Assert.True(results[0].Errors.IsEmpty, string.Join('\n', results[0].Errors));
        Assert.True(results[1].Errors.Any(e => e.StartsWith(error, StringComparison.Ordinal)),
            $"expected \"{error}\", got:\n{string.Join('\n', results[1].Errors)}");
        Assert.Equal(1, exitCode);
    }

    [RequiresKubernetesModelsFact]
    public async Task A_kind_the_validator_does_not_know_is_an_error_not_a_pass()
    {
        var pod = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Pod", ["metadata"] = new JsonObject { ["name"] = "p" } };

        var (exitCode, results) = await ValidateAsync([pod]);

        var result = Assert.Single(results);
        Assert.Equal("Pod", result.Kind);
        Assert.Contains(result.Errors, e => e.Contains("is not a kind this validator knows", StringComparison.Ordinal));
        Assert.Equal(1, exitCode);
    }

    private sealed record Result(int Index, string? Kind, string? Name, ImmutableArray<string> Errors);

    /// <summary>Runs validate-k8s.mjs on <paramref name="objects"/> and reads its per-object errors.</summary>
    private static async Task<(int ExitCode, ImmutableArray<Result> Results)> ValidateAsync(JsonArray objects)
    {
        // Checked first: without the package, node fails with exit 1 too, which a test of a broken copy would misread.
        Assert.True(CrossCheck.IsInstalled(Package),
            $"{Package} is not installed in {CrossCheck.Folder} (run `npm install --omit=optional --ignore-scripts --no-save` there, as .ci/run does)");

        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = CrossCheck.Folder,
            ArgumentList = { "validate-k8s.mjs" },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        var run = await Cli.HarnessProcess.RunToEndAsync(start, NodeTimeout, "node validate-k8s.mjs", objects.ToJsonString());
        Assert.True(run.ExitCode is 0 or 1 && run.Output.TrimStart().StartsWith('['),
            $"node validate-k8s.mjs exited {run.ExitCode} without a result: {run.Error}\n{run.Output}");
        var results = JsonSerializer.Deserialize<ImmutableArray<Result>>(run.Output, JsonSerializerOptions.Web);
        return (run.ExitCode, results);
    }

    private static JsonObject Pod(JsonObject job) => (JsonObject)job["spec"]!["template"]!["spec"]!;

    private static JsonObject Container(JsonObject job) => (JsonObject)Pod(job)["containers"]![0]!;

    private static JsonObject Mount(JsonObject job) => (JsonObject)Container(job)["volumeMounts"]![0]!;

    private static void Rename(JsonObject node, string from, string to)
    {
        var value = node[from];
        node.Remove(from);
        node[to] = value;
    }
}

/// <summary>Why the kubernetes-models tests cannot run here, or null when they can (or must: under <c>CI=true</c>).</summary>
internal static class KubernetesModels
{
    public static string? SkipReason => SharedModels.IsCi || CrossCheck.IsInstalled("kubernetes-models")
        ? null
        : $"kubernetes-models is not installed in {CrossCheck.Folder} (run `npm install --omit=optional --ignore-scripts --no-save` there, as .ci/run does; under CI=true this test fails instead).";
}

/// <summary>Needs node and tests/crosscheck's kubernetes-models: skipped with the reason when missing, failing under <c>CI=true</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresKubernetesModelsFactAttribute : FactAttribute
{
    public RequiresKubernetesModelsFactAttribute() => Skip = KubernetesModels.SkipReason;
}

/// <summary>Needs node and tests/crosscheck's kubernetes-models: skipped with the reason when missing, failing under <c>CI=true</c>.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresKubernetesModelsTheoryAttribute : TheoryAttribute
{
    public RequiresKubernetesModelsTheoryAttribute() => Skip = KubernetesModels.SkipReason;
}
