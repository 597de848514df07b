using System.Diagnostics;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Core.Sharding;
using Harness.Tests.Serialization;
using static Harness.Tests.Sharding.KubernetesJobSpecs;

namespace Harness.Tests.Sharding;

/// <summary>
/// <c>--emit k8s</c>: what the two Jobs say, read back as Kubernetes reads them (YAML to JSON). Whether Kubernetes accepts
/// them (types, required fields, enum values, unknown fields) is checked against the API's own definitions by
/// Harness.IntegrationTests/ScaleOut/KubernetesManifestValidationTests, which needs node and tests/crosscheck's packages.
/// </summary>
public sealed partial class KubernetesJobEmitterTests
{
    public static TheoryData<string> Specs => new(KubernetesJobSpecs.ByName.Keys);

    // --- what the Jobs say -------------------------------------------------------------------------------------

    [Fact]
    public void Emits_an_indexed_shards_job_and_a_merge_job_under_k8s()
    {
        var emitter = new KubernetesJobEmitter();
        var files = emitter.Emit(Spec());

        Assert.Equal("k8s", emitter.Name);
        Assert.Equal(["k8s/shards-job.yaml", "k8s/merge-job.yaml"], files.Select(f => f.RelativePath));
        Assert.All(files, f => Assert.False(f.Executable));

        var shards = ToJson(files[0].Content);
        Assert.Equal("batch/v1", shards.GetProperty("apiVersion").GetString());
        Assert.Equal("Job", shards.GetProperty("kind").GetString());
        var spec = shards.GetProperty("spec");
        Assert.Equal("Indexed", spec.GetProperty("completionMode").GetString());
        Assert.Equal(3, spec.GetProperty("completions").GetInt32());
        Assert.Equal(3, spec.GetProperty("parallelism").GetInt32());
        Assert.Equal(KubernetesJobEmitter.DefaultRetriesPerShard, spec.GetProperty("backoffLimitPerIndex").GetInt32());
        Assert.False(spec.TryGetProperty("backoffLimit", out _));
        var rule = spec.GetProperty("podFailurePolicy").GetProperty("rules")[0];
        Assert.Equal("FailIndex", rule.GetProperty("action").GetString());
        Assert.Equal([2, 3, 4], rule.GetProperty("onExitCodes").GetProperty("values").EnumerateArray().Select(v => v.GetInt32()));

        var merge = ToJson(files[1].Content).GetProperty("spec");
        Assert.False(merge.TryGetProperty("completionMode", out _));
        Assert.Equal(1, merge.GetProperty("completions").GetInt32());
        Assert.Equal("FailJob", merge.GetProperty("podFailurePolicy").GetProperty("rules")[0].GetProperty("action").GetString());
    }

    [Fact]
    public void Shard_pods_run_the_plan_and_the_merge_waits_for_every_shard()
    {
        var files = new KubernetesJobEmitter(TimeSpan.FromHours(36), retriesPerShard: 5).Emit(Spec());

        var shard = PodSpec(files[0]);
        var merge = PodSpec(files[1]);
        Assert.Equal("Never", shard.GetProperty("restartPolicy").GetString());
        Assert.Equal("Never", merge.GetProperty("restartPolicy").GetString());
        Assert.Equal(["/bin/sh", "-c", "exec dotnet /opt/harness/harness.dll run --plan '/data/runs/study/plan'"], Command(shard));
        Assert.Equal(["/bin/sh", "-c", "exec dotnet /opt/harness/harness.dll merge '/data/runs/study/plan' --wait 129600"], Command(merge));
        Assert.Equal(5, ToJson(files[0].Content).GetProperty("spec").GetProperty("backoffLimitPerIndex").GetInt32());
        // No --shard: the harness reads JOB_COMPLETION_INDEX, which Kubernetes sets in every pod of an Indexed Job.
        Assert.DoesNotContain("--shard", files[0].Content, StringComparison.Ordinal);
    }

    [Fact]
    public void Image_and_claim_default_to_documented_placeholders_and_follow_the_plan()
    {
        var defaults = new KubernetesJobEmitter().Emit(Spec());
        var named = new KubernetesJobEmitter().Emit(Spec(image: "registry.example.org/harness:1.4.0", claim: "eval-volume"));

        foreach (var file in defaults)
        {
            var pod = PodSpec(file);
            Assert.Equal(KubernetesJobEmitter.PlaceholderImage, Container(pod).GetProperty("image").GetString());
            Assert.Equal(KubernetesJobEmitter.DefaultVolumeClaim, Claim(pod));
            Assert.Contains("# Placeholder", file.Content, StringComparison.Ordinal);
        }

        foreach (var file in named)
        {
            var pod = PodSpec(file);
            Assert.Equal("registry.example.org/harness:1.4.0", Container(pod).GetProperty("image").GetString());
            Assert.Equal("eval-volume", Claim(pod));
            Assert.DoesNotContain("# Placeholder", file.Content, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Shard_resources_come_from_the_plan_with_memory_in_mebibytes_rounded_up()
    {
        var container = Container(PodSpec(new KubernetesJobEmitter().Emit(Spec())[0]));
        var resources = container.GetProperty("resources");

        foreach (var kind in (string[])["requests", "limits"])
        {
            Assert.Equal("6", resources.GetProperty(kind).GetProperty("cpu").GetString());
            Assert.Equal("5121Mi", resources.GetProperty(kind).GetProperty("memory").GetString());
        }

        Assert.Equal("0Mi", KubernetesJobEmitter.MemoryQuantity(0));
        Assert.Equal("1Mi", KubernetesJobEmitter.MemoryQuantity(1));
        Assert.Equal("3072Mi", KubernetesJobEmitter.MemoryQuantity(3L * 1024 * 1024 * 1024));
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void The_volume_is_mounted_over_every_shared_path_and_holds_the_cache(string name)
    {
        var spec = KubernetesJobSpecs.ByName[name];
        foreach (var file in new KubernetesJobEmitter().Emit(spec))
        {
            var pod = PodSpec(file);
            var mount = Container(pod).GetProperty("volumeMounts")[0];
            var mountPath = mount.GetProperty("mountPath").GetString()!;
            Assert.Equal(pod.GetProperty("volumes")[0].GetProperty("name").GetString(), mount.GetProperty("name").GetString());
            Assert.All(spec.SharedPaths.Append(spec.PlanDirectory), p => Assert.True(IsUnder(p, mountPath), $"{p} is not under {mountPath}"));

            var env = Assert.Single(Container(pod).GetProperty("env").EnumerateArray());
            Assert.Equal("HARNESS_CACHE", env.GetProperty("name").GetString());
            Assert.True(IsUnder(env.GetProperty("value").GetString()!, mountPath));
        }
    }

    [Fact]
    public void The_mount_is_the_deepest_common_folder_by_whole_names()
    {
        Assert.Equal("/data/runs", KubernetesJobEmitter.MountPath(["/data/runs/plan", "/data/runs/tasks/x", "/data/runs/m.gguf"]));
        Assert.Equal("/data", KubernetesJobEmitter.MountPath(["/data/abc/plan", "/data/abd/m.gguf"]));
        Assert.Equal("/data/plan", KubernetesJobEmitter.MountPath(["/data//plan/", "/data/./plan/shards"]));
        Assert.Equal("/mnt/eval data", KubernetesJobEmitter.MountPath(["/mnt/eval data/plan", "/mnt/eval data/models/a.gguf"]));
    }

    [Fact]
    public void Paths_that_share_only_the_root_or_are_not_absolute_are_refused()
    {
        var root = Assert.Throws<ArgumentException>(() => new KubernetesJobEmitter().Emit(
            Spec(shared: ["/home/ada/plan", "/opt/models/m.gguf"], planDirectory: "/home/ada/plan")));
        Assert.Contains("share no folder below /", root.Message, StringComparison.Ordinal);

        Assert.Throws<ArgumentException>(() => KubernetesJobEmitter.MountPath(["runs/plan"]));
        Assert.Throws<ArgumentException>(() => KubernetesJobEmitter.MountPath([@"C:\runs\plan"]));
        Assert.Throws<ArgumentException>(() => KubernetesJobEmitter.MountPath(["/data/plan/../other"]));
    }

    [Theory]
    [MemberData(nameof(Specs))]
    public void Names_and_labels_are_dns_1123_labels_with_room_for_the_shard_index(string name)
    {
        var spec = KubernetesJobSpecs.ByName[name];
        var files = new KubernetesJobEmitter().Emit(spec);
        var runLabels = new HashSet<string>(StringComparer.Ordinal);

        foreach (var file in files)
        {
            var job = ToJson(file.Content);
            var jobName = job.GetProperty("metadata").GetProperty("name").GetString()!;
            // An Indexed Job's pod host name is <job>-<index>, itself a DNS-1123 label.
            var hostName = $"{jobName}-{spec.ShardCount - 1}";
            Assert.Matches(Dns1123Label(), hostName);
            Assert.True(hostName.Length <= 63, hostName);

            foreach (var labels in (JsonElement[])[job.GetProperty("metadata").GetProperty("labels"),
                         job.GetProperty("spec").GetProperty("template").GetProperty("metadata").GetProperty("labels")])
            {
                var value = labels.GetProperty(KubernetesJobEmitter.RunIdLabel).GetString()!;
                Assert.Matches(Dns1123Label(), value);
                Assert.True(value.Length <= 63);
                runLabels.Add(value);
            }

            Assert.Equal(spec.RunId, job.GetProperty("metadata").GetProperty("annotations").GetProperty("harness/run-id").GetString());
        }

        Assert.Single(runLabels);
    }

    [Fact]
    public void Run_ids_that_sanitise_alike_keep_different_labels()
    {
        Assert.Equal("20261207-183000-ab12cd", KubernetesJobEmitter.RunLabel("20261207-183000-ab12cd"));
        var a = KubernetesJobEmitter.RunLabel("Study_A");
        var b = KubernetesJobEmitter.RunLabel("study.a");
        Assert.StartsWith("study-a-", a, StringComparison.Ordinal);
        Assert.StartsWith("study-a-", b, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.Matches(Dns1123Label(), KubernetesJobEmitter.RunLabel("!!!"));
        Assert.Matches(Dns1123Label(), KubernetesJobEmitter.RunLabel(""));
        Assert.Equal(40, KubernetesJobEmitter.RunLabel(new string('a', 41)).Length);
    }

    [Fact]
    public void A_path_with_space_colon_quote_and_newline_survives_yaml_and_the_shell()
    {
        const string plan = "/mnt/eval data/plan: q4 'final' #2 \"x\"\\\n\tend";
        var spec = Spec(planDirectory: plan, shared: [plan, "/mnt/eval data/models/a b.gguf"], harness: "printf '%s\\n'");

        var files = new KubernetesJobEmitter().Emit(spec);

        var shard = PodSpec(files[0]);
        Assert.Equal("/mnt/eval data", Container(shard).GetProperty("volumeMounts")[0].GetProperty("mountPath").GetString());
        Assert.Equal(plan, ToJson(files[0].Content).GetProperty("metadata").GetProperty("annotations").GetProperty("harness/plan").GetString());
        // The pod's shell gives the harness exactly these arguments; printf stands in for the harness.
        Assert.Equal(["run", "--plan", .. plan.Split('\n')], Shell(Command(shard)[2]));
        Assert.Equal(["merge", .. plan.Split('\n'), "--wait", "604800"], Shell(Command(PodSpec(files[1]))[2]));
    }

    // Kubernetes reads YAML with go-yaml, which keeps YAML 1.1's booleans (on, no, yes) and sexagesimal numbers; every
    // text value is double-quoted so no reader can retype it. Only the integers the Job API asks for are plain.
    [Fact]
    public void Every_text_value_is_double_quoted_so_yaml_1_1_readers_keep_it_text()
    {
        var files = new KubernetesJobEmitter().Emit(Spec(runId: "on", image: "Yes", claim: "no",
            planDirectory: "/data/1:30", shared: ["/data/1:30", "/data/off"]));

        foreach (var file in files)
        {
            var stream = new YamlDotNet.RepresentationModel.YamlStream();
            stream.Load(new StringReader(file.Content));
            var values = new List<YamlDotNet.RepresentationModel.YamlScalarNode>();
            Values(stream.Documents.Single().RootNode, values);

            Assert.All(values, v => Assert.True(
                v.Style == YamlDotNet.Core.ScalarStyle.DoubleQuoted || (v.Style == YamlDotNet.Core.ScalarStyle.Plain && v.Value!.All(char.IsAsciiDigit)),
                $"{file.RelativePath} line {v.Start.Line}: {v.Value} is written {v.Style}"));
            Assert.Contains(values, v => v.Value == "no");
        }
    }

    private static void Values(YamlDotNet.RepresentationModel.YamlNode node, List<YamlDotNet.RepresentationModel.YamlScalarNode> values)
    {
        switch (node)
        {
            case YamlDotNet.RepresentationModel.YamlScalarNode scalar:
                values.Add(scalar);
                break;
            case YamlDotNet.RepresentationModel.YamlSequenceNode sequence:
                sequence.Children.ToList().ForEach(child => Values(child, values));
                break;
            case YamlDotNet.RepresentationModel.YamlMappingNode mapping:
                // Keys are Kubernetes field names and label keys, plain by design; only values can be user text.
                mapping.Children.Values.ToList().ForEach(child => Values(child, values));
                break;
        }
    }

    [Fact]
    public void The_same_spec_gives_the_same_bytes_in_any_culture()
    {
        var spec = Spec(shards: 12);
        var invariant = new KubernetesJobEmitter().Emit(spec);
        using var scope = new CultureScope("de-DE");
        var german = new KubernetesJobEmitter().Emit(spec);

        Assert.Equal(invariant.Select(f => f.Content), german.Select(f => f.Content));
        Assert.DoesNotContain("\r", invariant[0].Content, StringComparison.Ordinal);
    }

    // --- helpers -----------------------------------------------------------------------------------------------

    private static JsonElement PodSpec(EmittedFile file) =>
        ToJson(file.Content).GetProperty("spec").GetProperty("template").GetProperty("spec");

    private static JsonElement Container(JsonElement pod) => Assert.Single(pod.GetProperty("containers").EnumerateArray());

    private static string Claim(JsonElement pod) =>
        Assert.Single(pod.GetProperty("volumes").EnumerateArray()).GetProperty("persistentVolumeClaim").GetProperty("claimName").GetString()!;

    private static string[] Command(JsonElement pod) =>
        [.. Container(pod).GetProperty("command").EnumerateArray().Select(e => e.GetString()!)];

    private static bool IsUnder(string path, string folder) =>
        KubernetesJobEmitter.MountPath([path, folder]) == KubernetesJobEmitter.MountPath([folder]);

    /// <summary>Runs a pod's <c>sh -c</c> text here and returns the lines printf wrote (one per argument).</summary>
    private static string[] Shell(string script)
    {
        Assert.True(File.Exists("/bin/sh"), "this test runs the pod's shell line with /bin/sh");
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        Assert.Equal(0, process.ExitCode);
        return output.TrimEnd('\n').Split('\n');
    }

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex Dns1123Label();
}
