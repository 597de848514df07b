using Harness.Core.Downloads;
using Harness.Core.Models;
using Harness.Tests.Gguf;

namespace Harness.Tests.Models;

public sealed class ModelFileCheckTests
{
    [Fact]
    public async Task A_file_whose_sha256_is_not_the_manifests_is_reported_by_the_full_check_with_both_hashes()
    {
        using var folder = new TempFolder();
        using var files = new GgufTestFiles();
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var good = files.Write("good.gguf", metadata, tensors);
        var actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(good)));
        var manifest = folder.Write("models.manifest", $"""
            version: 1
            models:
              - id: right
                path: {good}
                sha256: {actual.ToUpperInvariant()}
              - id: wrong
                path: {good}
                sha256: {new string('0', 64)}
            """);

        var problems = await ModelFileCheck.CheckAsync(manifest, new ManifestLoader().Load(manifest).Models, new FileHasher(folder.Path), CancellationToken.None);

        var problem = Assert.Single(problems);
        Assert.Equal((manifest, 6), (problem.FilePath, problem.Line!.Value));
        Assert.Equal($"model 'wrong': file {good} has sha256 {actual}, but the manifest says {new string('0', 64)}: fix the sha256, or the file if it is not the one you meant", problem.Problem);
        Assert.Empty(ModelFileCheck.Check(manifest, new ManifestLoader().Load(manifest).Models, readHeaders: true));
    }

    [Fact]
    public void A_missing_file_and_a_file_that_is_not_a_gguf_are_each_reported_at_their_manifest_line_naming_the_file()
    {
        using var folder = new TempFolder();
        using var files = new GgufTestFiles();
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var good = files.Write("good.gguf", metadata, tensors);
        folder.Write("models/notes.gguf", "these are notes, not weights");
        var manifest = folder.Write("models.manifest", $"""
            version: 1
            models:
              - id: good
                path: {good}
              - id: absent
                path: models/absent.gguf
              - id: notes
                path: models/notes.gguf
              - id: remote
                url: https://example.org/m.gguf
                sha256: {new string('a', 64)}
            """);

        var problems = ModelFileCheck.Check(manifest, new ManifestLoader().Load(manifest).Models, readHeaders: true);

        Assert.Equal(2, problems.Length);
        Assert.Equal((manifest, 5), (problems[0].FilePath, problems[0].Line!.Value));
        Assert.Equal($"model 'absent': file {Path.Combine(folder.Path, "models", "absent.gguf")} does not exist", problems[0].Problem);
        Assert.Equal(7, problems[1].Line);
        Assert.StartsWith($"model 'notes': file {Path.Combine(folder.Path, "models", "notes.gguf")}: not a GGUF file", problems[1].Problem, StringComparison.Ordinal);
        // Without headers only existence counts: a run checks that much before it creates its folder.
        Assert.Single(ModelFileCheck.Check(manifest, new ManifestLoader().Load(manifest).Models, readHeaders: false));
    }

    [Fact]
    public async Task Validate_exits_2_for_a_manifest_whose_model_file_is_missing_and_0_when_every_file_reads()
    {
        using var folder = new TempFolder();
        using var files = new GgufTestFiles();
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var good = files.Write("good.gguf", metadata, tensors);
        var tasks = Path.Combine(Suites.RepoPaths.Root(), "tasks");
        var broken = folder.Write("broken.manifest", "version: 1\nmodels:\n  - id: gone\n    path: models/gone.gguf\n");
        var fine = folder.Write("fine.manifest", $"version: 1\nmodels:\n  - id: good\n    path: {good}\n");

        Assert.Equal(2, await Harness.Cli.HarnessApp.RunAsync(["validate", "--models", broken, "--tasks", tasks, "--json"]));
        Assert.Equal(0, await Harness.Cli.HarnessApp.RunAsync(["validate", "--models", fine, "--tasks", tasks, "--json"]));
    }
}
