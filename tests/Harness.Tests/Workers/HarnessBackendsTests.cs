using System.Collections.Immutable;
using Harness.Cli.Running;
using Harness.Cli.Workers;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Tests.Fakes;

namespace Harness.Tests.Workers;

/// <summary>The CLI's one registration point: what a run, the worker and bench get for each kind.</summary>
public sealed class HarnessBackendsTests : IDisposable
{
    private readonly HttpClient _http = new();

    private BackendServices Services => new(TextWriter.Null, _http, TimeProvider.System);

    private static string Loaded(long id) => WorkerJson.Serialize(new WorkerResponse(
        true, RequestId: id, Abilities: new SessionAbilities(true, 0, true, false),
        Loaded: new ModelLoadInfo("fake", TimeSpan.FromMilliseconds(1), 1, 1, "none",
            ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty)));

    [Fact]
    public async Task A_run_gets_llamacpp_in_worker_processes_with_its_versions_and_every_ability_of_its_sessions()
    {
        var registry = HarnessBackends.ForRun(Services, new WorkerLaunch("/bin/false", []), WatchdogSettings.Default, null);
        var model = TestSuites.Model("m").Entry;

        var provider = registry.For(model);
        var description = await provider.DescribeAsync(model, "/models/m.gguf", CancellationToken.None);

        Assert.Contains(BackendKind.LlamaCpp, registry.Kinds);
        Assert.IsType<WorkerProcessBackend>(provider.Backend);
        Assert.Equal("llamasharp", provider.Backend.Name);
        Assert.Contains("llama.cpp", provider.Versions.Keys);
        Assert.Equal(
            BackendAbilities.Generate | BackendAbilities.LogLikelihood | BackendAbilities.TokenDistributions
                | BackendAbilities.BatchedGeneration | BackendAbilities.ThroughputProbe | BackendAbilities.GrammarConstrainedGeneration,
            description.Capabilities.Abilities);
        Assert.Equal(EnergyScope.WorkerProcess, description.Capabilities.Energy);
        Assert.Empty(description.Identity);
    }

    [Fact]
    public async Task The_worker_of_a_model_is_told_which_backend_to_host()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // The script answers the load only when its arguments are exactly "--backend llamacpp"; otherwise it exits.
        var launch = new WorkerLaunch("/bin/sh",
            ["-c", $"[ \"$*\" = '--backend llamacpp' ] || exit 9; read line; printf '%s\\n' '{Loaded(1)}'; while read line; do :; done", "sh"]);
        var backend = new RoutingBackend(HarnessBackends.ForRun(Services, launch, WatchdogSettings.Default, null));

        await using var session = await backend.LoadAsync(TestSuites.Model("m").Entry, "/dev/null", CancellationToken.None);

        Assert.Equal("fake", session.LoadInfo.Backend);
    }

    [Fact]
    public void The_worker_hosts_a_native_kind_and_refuses_an_unknown_or_served_one_by_name()
    {
        Assert.Equal("llamasharp", HarnessBackends.ForWorker("llamacpp", Services).Name);

        var unknown = Assert.Throws<ArgumentException>(() => HarnessBackends.ForWorker("vllm", Services));
        // A served kind never runs in a worker: refused as absent, or as one that runs in the harness process.
        var served = Assert.Throws<ArgumentException>(() => HarnessBackends.ForWorker("openai", Services));

        Assert.StartsWith("unknown backend 'vllm'; this build's worker hosts: llamacpp", unknown.Message, StringComparison.Ordinal);
        Assert.StartsWith("backend 'openai' ", served.Message, StringComparison.Ordinal);
        Assert.Contains("worker", served.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_gets_the_in_process_backend_whose_throughput_probe_it_calls()
    {
        var provider = HarnessBackends.InProcess(Services).For(TestSuites.Model("m").Entry);

        Assert.IsNotType<WorkerProcessBackend>(provider.Backend);
        Assert.Equal("llamasharp", provider.Backend.Name);
    }

    [Fact]
    public void Validate_names_a_model_whose_kind_this_build_lacks_without_asking_any_server()
    {
        var manifest = new Harness.Core.Models.ManifestLoader().Parse("""
            version: 1
            models:
              - { id: gguf, path: a.gguf }
              - { id: genai, path: a-genai, format: onnx }
              - id: served
                backend: { kind: openai, endpoint: "http://127.0.0.1:1/v1", model: m }
            """, "/models/m.manifest");

        // A build with llama.cpp only.
        var llamaOnly = new BackendRegistry([new FakeBackendProvider(new FakeBackend(_ => ""))]);

        var problems = Harness.Cli.Commands.ValidateCommand.UnavailableKinds(manifest, llamaOnly).ToList();

        Assert.Equal(
            [
                (4, "model 'genai': backend 'onnx-genai' is not part of this build (available: llamacpp)"),
                (5, "model 'served': backend 'openai' is not part of this build (available: llamacpp)"),
            ],
            problems.Select(p => (p.Line ?? 0, p.Problem)));
    }

    public void Dispose() => _http.Dispose();
}
