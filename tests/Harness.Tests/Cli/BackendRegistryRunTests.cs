using System.Collections.Immutable;
using System.Globalization;
using Harness.Cli.Running;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Tests.Fakes;

namespace Harness.Tests.Cli;

/// <summary>Runs that go through the backend registry: planning-time refusals, what run.json records, served models.</summary>
public sealed class BackendRegistryRunTests : IDisposable
{
    private const string NoEcho = "llama-server rejects echo, so /v1/completions cannot return prompt log-probabilities";
    private readonly string _root = Directory.CreateTempSubdirectory("harness-registry-").FullName;
    private readonly HttpClient _http = new();

    public BackendRegistryRunTests()
    {
        Suites.RepoPaths.CopySuites(_root, "arith", "sentiment");

        Directory.CreateDirectory(Path.Combine(_root, "models"));
        File.WriteAllText(Path.Combine(_root, "models", "a.gguf"), "model a");
        File.WriteAllText(Path.Combine(_root, "models.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 64, gpu_layers: 0, chat_template: none }
            models:
              - { id: local, path: models/a.gguf }
              - id: served
                backend: { kind: openai, endpoint: "http://127.0.0.1:1/v1", model: stories }
            """);
    }

    // Arith prompts get their sum, every other prompt " positive".
    private static FakeBackend Backend() => new(prompt =>
    {
        var text = prompt.PlainText;
        if (!text.EndsWith('=') || !text.Contains('+', StringComparison.Ordinal))
        {
            return " positive";
        }

        var parts = text.TrimEnd('=').Split('+');
        return (int.Parse(parts[0], CultureInfo.InvariantCulture) + int.Parse(parts[1], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
    });

    private static BackendCapabilities GenerateOnly(EnergyScope scope) => new(
        BackendAbilities.Generate | BackendAbilities.BatchedGeneration, scope,
        ImmutableSortedDictionary<BackendAbilities, string>.Empty.Add(BackendAbilities.LogLikelihood, NoEcho));

    private RunService Service(params IBackendProvider[] providers) =>
        InProcessRuns.Service(new BackendRegistry(providers), _root, _http, new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero));

    private NewRunOptions Options(string model, params string[] suites) => new(
        Path.Combine(_root, "models.manifest"), Path.Combine(_root, "tasks"), [.. suites.Select(s => Path.Combine(_root, "tasks", s))], [model],
        Path.Combine(_root, "results"),
        Energy: InProcessRuns.QuickEnergy);

    [Fact]
    public async Task A_multiple_choice_suite_the_backend_cannot_score_refuses_the_run_with_its_reason_before_any_folder_exists()
    {
        var backend = Backend();
        var provider = new FakeBackendProvider(backend, GenerateOnly(EnergyScope.WorkerProcess));

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(provider).StartAsync(Options("local"), null, null, CancellationToken.None));

        Assert.Equal((Path.Combine(_root, "models.manifest"), 4), (ex.FilePath, ex.Line!.Value));
        Assert.Contains("model 'local' cannot serve suite 'sentiment'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(NoEcho, ex.Message, StringComparison.Ordinal);
        Assert.Contains("--models or --suites", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("'arith'", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));
        Assert.Equal(0, backend.Loads);
        Assert.Equal(Harness.Cli.ExitCodes.BadInput, Harness.Cli.ErrorReporter.Report(ex));
    }

    [Fact]
    public async Task Leaving_the_refused_suite_out_runs_the_rest_and_run_json_records_what_the_backend_said()
    {
        var provider = new FakeBackendProvider(Backend(), GenerateOnly(EnergyScope.WorkerProcess))
        {
            Versions = ImmutableSortedDictionary<string, string>.Empty.Add("fake-runtime", "2.5"),
        };

        var result = await Service(provider).StartAsync(Options("local", "arith"), null, null, CancellationToken.None);

        var model = Assert.Single(result.Manifest.Models);
        var recorded = Assert.IsType<RunBackend>(model.Backend);
        Assert.Equal(BackendKind.LlamaCpp, recorded.Kind);
        Assert.Equal(BackendAbilities.Generate | BackendAbilities.BatchedGeneration, recorded.Abilities);
        Assert.Equal(EnergyScope.WorkerProcess, recorded.Energy);
        Assert.Equal(NoEcho, recorded.Missing["logLikelihood"]);
        Assert.Equal("2.5", result.Manifest.Versions["fake-runtime"]);
        // Read back from the file: the new members survive the round trip, and the abilities are written as names.
        var json = await File.ReadAllTextAsync(Path.Combine(result.RunDirectory, "run.json"));
        Assert.Contains("\"abilities\": \"generate, batchedGeneration\"", json, StringComparison.Ordinal);
        var reread = await RunManifestFile.ReadAsync(result.RunDirectory, CancellationToken.None);
        Assert.Equal(recorded.Abilities, reread.Models[0].Backend!.Abilities);
        Assert.Equal(NoEcho, reread.Models[0].Backend!.Missing["logLikelihood"]);
    }

    [Fact]
    public async Task A_judge_whose_backend_cannot_constrain_output_with_a_grammar_refuses_the_run_before_any_folder_exists()
    {
        // Pointwise verdicts are read from grammar-constrained output: a judge served by a server without GBNF grammars
        // would fail every judgement after the candidates ran; refused at planning instead, with the backend's reason.
        const string NoGrammar = "only llama-server's API takes a GBNF grammar (field 'grammar')";
        var judged = Path.Combine(_root, "tasks", "judged");
        Directory.CreateDirectory(judged);
        foreach (var file in Directory.GetFiles(Path.Combine(_root, "tasks", "arith")))
        {
            File.Copy(file, Path.Combine(judged, Path.GetFileName(file)));
        }

        var yaml = Path.Combine(judged, "suite.yaml");
        var text = await File.ReadAllTextAsync(yaml);
        var start = text.IndexOf("scorers:", StringComparison.Ordinal);
        var end = text.IndexOf("requirement:", start, StringComparison.Ordinal);
        await File.WriteAllTextAsync(yaml, text[..start].Replace("name: arith", "name: judged", StringComparison.Ordinal)
            + "scorers:\n  - name: judge\n    args: { model: served, rubric: \"5 if the sum is right, 1 otherwise.\", scale: [1, 5], pass_at: 5 }\n"
            + text[end..]);
        var served = new FakeBackendProvider(Backend(), new BackendCapabilities(
            BackendAbilities.Generate, EnergyScope.OtherLocalProcess,
            ImmutableSortedDictionary<BackendAbilities, string>.Empty.Add(BackendAbilities.GrammarConstrainedGeneration, NoGrammar)), BackendKind.OpenAi);

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(new FakeBackendProvider(Backend()), served).StartAsync(Options("local", "judged"), null, null, CancellationToken.None));

        Assert.Contains("model 'served' cannot serve judging suite 'judged'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("constrain generation with a GBNF grammar", ex.Message, StringComparison.Ordinal);
        Assert.Contains(NoGrammar, ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));
    }

    [Fact]
    public async Task A_backend_that_cannot_describe_its_model_refuses_the_run_the_same_way()
    {
        var served = new FakeBackendProvider(Backend(), kind: BackendKind.OpenAi)
        {
            DescribeFailure = "http://127.0.0.1:1/v1/models: connection refused",
        };

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(new FakeBackendProvider(Backend()), served).StartAsync(Options("served", "arith"), null, null, CancellationToken.None));

        Assert.Equal(5, ex.Line);
        Assert.Contains("model 'served': its openai backend cannot describe it: http://127.0.0.1:1/v1/models: connection refused", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no run folder was created", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));
    }

    [Fact]
    public async Task A_kind_this_build_lacks_refuses_the_run_naming_the_kinds_it_has()
    {
        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(new FakeBackendProvider(Backend())).StartAsync(Options("served", "arith"), null, null, CancellationToken.None));

        Assert.Contains("backend 'openai' is not part of this build (available: llamacpp)", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));
    }

    [Fact]
    public async Task A_served_model_is_never_fetched_or_hashed_and_its_identity_and_scope_come_from_the_backend()
    {
        var served = new FakeBackendProvider(Backend(), GenerateOnly(EnergyScope.OtherLocalProcess), BackendKind.OpenAi)
        {
            Identity = ImmutableSortedDictionary<string, string>.Empty.Add("model", "stories260K.gguf").Add("build", "b1234"),
        };

        var result = await Service(new FakeBackendProvider(Backend()), served).StartAsync(Options("served", "arith"), null, null, CancellationToken.None);

        Assert.Equal(("served", "http://127.0.0.1:1/v1"), Assert.Single(served.Described));
        var model = Assert.Single(result.Manifest.Models);
        Assert.Equal(("http://127.0.0.1:1/v1", "", 0L), (model.ResolvedPath, model.FileSha256, model.FileSizeBytes));
        Assert.Equal("b1234", model.Backend!.Identity["build"]);
        Assert.Equal(EnergyScope.OtherLocalProcess, model.Backend.Energy);
        Assert.Equal(ModelRunStatus.Completed, Assert.Single(result.Outcomes).Status);
        Assert.False(Directory.Exists(Path.Combine(_root, "cache", "models")));
        // Only the estimate could measure on this machine, and it cannot see a server's work: not reported, with the reason.
        var energy = Assert.Single(result.Report.Models).Energy;
        Assert.Equal(EnergyScopeRule.ServerProcess, energy!.Failure);
        Assert.All(result.Report.FixedSuites.SelectMany(s => s.Rows), r => Assert.Null(r.Energy));
        // A served model has no file: never "0 B", and never the smallest file.
        var markdown = await File.ReadAllTextAsync(Path.Combine(result.RunDirectory, "report.md"));
        Assert.DoesNotContain("| served | 0 B", markdown, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
