using Harness.Core.Downloads;
using Harness.Core.Models;

namespace Harness.Tests.Models;

/// <summary>An ONNX Runtime GenAI model is a folder with genai_config.json; a served model has no file to check.</summary>
public sealed class ModelFileCheckOnnxTests
{
    [Fact]
    public async Task An_onnx_model_without_genai_config_is_reported_at_its_line_and_a_served_one_is_not_checked()
    {
        using var folder = new TempFolder();
        folder.Write("good-genai/genai_config.json", "{}");
        folder.Write("good-genai/model.onnx", "graph");
        folder.Write("bare/model.onnx", "graph");
        folder.Write("single.onnx", "graph");
        var manifest = folder.Write("models.manifest", """
            version: 1
            models:
              - id: good
                path: good-genai
                format: onnx
              - id: bare
                path: bare
                format: onnx
              - id: single
                path: single.onnx
              - id: served
                backend: { kind: openai, endpoint: "http://127.0.0.1:1/v1", model: m }
            """);
        var models = new ManifestLoader().Load(manifest).Models;

        var problems = await ModelFileCheck.CheckAsync(manifest, models, new FileHasher(Path.Combine(folder.Path, "hashes")), CancellationToken.None);

        Assert.Equal(
            [
                (6, $"model 'bare': {Path.Combine(folder.Path, "bare")} is not an ONNX Runtime GenAI folder (no genai_config.json)"),
                (9, $"model 'single': {Path.Combine(folder.Path, "single.onnx")} is a file, not an ONNX Runtime GenAI folder (a folder with genai_config.json, the model and its tokenizer)"),
            ],
            problems.Select(p => (p.Line ?? 0, p.Problem)));
        Assert.Equal(problems.Select(p => p.Problem), ModelFileCheck.Check(manifest, models, readHeaders: false).Select(p => p.Problem));
    }

    [Fact]
    public async Task A_folder_resolves_to_the_digest_of_its_files_which_a_manifest_sha256_must_match()
    {
        using var folder = new TempFolder();
        folder.Write("m-genai/genai_config.json", "{}");
        folder.Write("m-genai/sub/model.onnx", "graph");
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));
        var (digest, size) = await ModelFolder.Sha256Async(hasher, Path.Combine(folder.Path, "m-genai"), CancellationToken.None);
        var manifest = folder.Write("models.manifest", $"""
            version: 1
            models:
              - id: right
                path: m-genai
                format: onnx
                sha256: {digest}
              - id: wrong
                path: m-genai
                format: onnx
                sha256: {new string('0', 64)}
            """);
        var models = new ManifestLoader().Load(manifest).Models;
        using var http = new HttpClient();
        var resolver = ModelResolver.Create(http, new HarnessCache(Path.Combine(folder.Path, "cache")));

        var resolved = await resolver.ResolveAsync(models[0], folder.Path, null, CancellationToken.None);
        var mismatch = await Assert.ThrowsAsync<ModelResolutionException>(() => resolver.ResolveAsync(models[1], folder.Path, null, CancellationToken.None));

        Assert.Equal((Path.Combine(folder.Path, "m-genai"), digest, 7L), (resolved.ResolvedPath, resolved.FileSha256, resolved.FileSizeBytes));
        Assert.Equal(size, resolved.FileSizeBytes);
        Assert.Contains($"checksum mismatch for the folder {Path.Combine(folder.Path, "m-genai")}", mismatch.Message, StringComparison.Ordinal);
        // Another file in the folder is another model.
        folder.Write("m-genai/extra.txt", "x");
        Assert.NotEqual(digest, (await ModelFolder.Sha256Async(hasher, Path.Combine(folder.Path, "m-genai"), CancellationToken.None)).Sha256);
    }
}
