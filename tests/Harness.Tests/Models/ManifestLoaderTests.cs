using System.Security.Cryptography;
using System.Text;
using Harness.Core.Models;
using Harness.Core.Suites;

namespace Harness.Tests.Models;

public sealed class ManifestLoaderTests : IDisposable
{
    private static readonly BackendOptions BuiltIn = new(ContextSize: 2048, Threads: 6, BatchSize: 512, GpuLayers: 0, ChatTemplate: ChatTemplateMode.Auto);

    private readonly TempFolder folder = new();
    private readonly ManifestLoader loader = new(BuiltIn);

    public void Dispose() => folder.Dispose();

    private const string Full = """
        version: 1
        defaults:
          context_size: 1024
          threads: 2
          chat_template: none
        models:
          - id: tiny-bigram
            path: models/tiny-bigram.gguf
            description: "A bigram toy"
            backend: { context_size: 512, batch_size: 256 }
            metadata: { recipe: bigram, seed: "1" }
          - id: remote.q4_k
            url: https://example.invalid/files/remote.Q4_K.gguf
            sha256: ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789
            format: gguf
            backend:
              gpu_layers: 99
              chat_template: auto
        """;

    [Fact]
    public void Load_reads_entries_and_merges_model_defaults_and_built_in_settings()
    {
        var path = folder.Write("models.manifest", Full);

        var manifest = loader.Load(path);

        Assert.Equal(path, manifest.FilePath);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))), manifest.ContentSha256);
        Assert.Equal(["tiny-bigram", "remote.q4_k"], manifest.Models.Select(m => m.Id));

        var local = manifest.Models[0];
        Assert.Equal(ModelFormat.Gguf, local.Format);
        Assert.Equal(new ModelSource("models/tiny-bigram.gguf", null, null), local.Source);
        Assert.Equal(new BackendOptions(512, 2, 256, 0, ChatTemplateMode.None), local.Backend);
        Assert.Equal("A bigram toy", local.Description);
        Assert.Equal("bigram", local.Metadata["recipe"]);
        Assert.Equal("1", local.Metadata["seed"]);
        Assert.Equal(7, local.Line);

        var remote = manifest.Models[1];
        Assert.Equal(new Uri("https://example.invalid/files/remote.Q4_K.gguf"), remote.Source.Url);
        Assert.Equal("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", remote.Source.Sha256);
        Assert.Equal(new BackendOptions(1024, 2, 512, 99, ChatTemplateMode.Auto), remote.Backend);
        Assert.Null(remote.Description);
        Assert.Empty(remote.Metadata);
        Assert.Equal(12, remote.Line);
    }

    [Fact]
    public void Built_in_defaults_apply_when_nothing_sets_a_value()
    {
        var manifest = loader.Parse("version: 1\nmodels:\n  - id: a\n    path: a.gguf\n", Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(BuiltIn, manifest.Models[0].Backend);
    }

    [Theory]
    [InlineData("", null)]
    [InlineData("    backend:\n      parallel: auto\n", null)]
    [InlineData("    backend:\n      parallel: 4\n", 4)]
    public void Parallel_sequences_are_auto_unless_a_number_is_given(string backend, int? expected)
    {
        var manifest = loader.Parse($"version: 1\nmodels:\n  - id: a\n    path: a.gguf\n{backend}", Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(expected, manifest.Models[0].Backend.ParallelSequences);
    }

    [Fact]
    public void A_model_can_set_parallel_back_to_auto_over_the_defaults()
    {
        var manifest = loader.Parse(
            "version: 1\ndefaults:\n  parallel: 2\nmodels:\n  - id: a\n    path: a.gguf\n  - id: b\n    path: b.gguf\n    backend:\n      parallel: auto\n",
            Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(2, manifest.Models[0].Backend.ParallelSequences);
        Assert.Null(manifest.Models[1].Backend.ParallelSequences);
    }

    [Fact]
    public void Timeouts_are_derived_unless_the_defaults_or_the_model_fix_them_in_seconds()
    {
        var manifest = loader.Parse(
            "version: 1\ndefaults:\n  item_timeout_s: 900\nmodels:\n  - id: a\n    path: a.gguf\n  - id: b\n    path: b.gguf\n    backend:\n      item_timeout_s: 30\n      load_timeout_s: 1200\n",
            Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(TimeSpan.FromSeconds(900), manifest.Models[0].Backend.ItemTimeout);
        Assert.Null(manifest.Models[0].Backend.LoadTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), manifest.Models[1].Backend.ItemTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1200), manifest.Models[1].Backend.LoadTimeout);

        var error = Assert.Throws<InputFileException>(() => loader.Parse(
            "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    backend:\n      item_timeout_s: 0\n", Path.Combine(folder.Path, "m.manifest")));
        Assert.Equal(6, error.Line);
        Assert.Contains("'item_timeout_s' must be positive, got 0", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", "'parallel' must be positive, got 0")]
    [InlineData("many", "'parallel' must be 'auto' or a positive integer, got 'many'")]
    public void A_bad_parallel_value_names_the_line_and_the_rule(string value, string message)
    {
        var error = Assert.Throws<InputFileException>(() => loader.Parse(
            $"version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    backend:\n      parallel: {value}\n", Path.Combine(folder.Path, "m.manifest")));

        Assert.Equal(6, error.Line);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_built_in_threads_are_the_logical_core_count()
    {
        var defaults = ManifestLoader.BuiltInDefaults();

        Assert.Equal(new BackendOptions(2048, Environment.ProcessorCount, 512, 0, ChatTemplateMode.Auto), defaults);
    }

    [Theory]
    [InlineData("a.onnx", ModelFormat.Onnx)]
    [InlineData("dir/A.GGUF", ModelFormat.Gguf)]
    public void Format_is_inferred_from_the_file_extension_when_absent(string path, ModelFormat expected)
    {
        var manifest = loader.Parse($"version: 1\nmodels:\n  - id: a\n    path: {path}\n", Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(expected, manifest.Models[0].Format);
    }

    [Theory]
    [InlineData("    path: a.gguf\n    colour: red\n", 5, "unknown key 'colour'")]
    [InlineData("    path: a.gguf\n    backend: { threads: 2, thread: 3 }\n", 5, "unknown key 'thread'")]
    [InlineData("    path: a.bin\n", 3, "no 'format'")]
    [InlineData("    path: a.gguf\n    format: safetensors\n", 5, "unknown format 'safetensors'")]
    [InlineData("    url: https://h/a.gguf\n    path: a.gguf\n    sha256: 0000000000000000000000000000000000000000000000000000000000000000\n", 3, "both 'path' and 'url'")]
    [InlineData("    description: nothing\n    format: gguf\n", 3, "neither 'path' nor 'url'")]
    [InlineData("    url: ftp://h/a.gguf\n    sha256: 0000000000000000000000000000000000000000000000000000000000000000\n", 4, "absolute http(s) URL")]
    [InlineData("    url: models/a.gguf\n    sha256: 0000000000000000000000000000000000000000000000000000000000000000\n", 4, "absolute http(s) URL")]
    [InlineData("    url: https://h/a.gguf\n", 3, "needs 'sha256'")]
    [InlineData("    path: a.gguf\n    sha256: 1234\n", 5, "64 hexadecimal digits")]
    [InlineData("    path: a.gguf\n    backend: { context_size: 0 }\n", 5, "'context_size' must be positive, got 0")]
    [InlineData("    path: a.gguf\n    backend:\n      threads: -1\n", 6, "'threads' must be positive")]
    [InlineData("    path: a.gguf\n    backend:\n      batch_size: lots\n", 6, "'batch_size' must be an integer")]
    [InlineData("    path: a.gguf\n    backend:\n      gpu_layers: -1\n", 6, "'gpu_layers' must be zero or more")]
    [InlineData("    path: a.gguf\n    backend: { chat_template: chatml }\n", 5, "'chat_template' must be auto or none")]
    [InlineData("    path: a.gguf\n    metadata: { tags: [a, b] }\n", 5, "metadata 'tags' must be a text value")]
    [InlineData("    path: [a, b]\n", 4, "'path' must be a text value")]
    public void Model_entry_errors_name_the_file_and_line(string entryTail, int line, string problem)
    {
        var text = "version: 1\nmodels:\n  - id: a\n" + entryTail;
        var path = Path.Combine(folder.Path, "m.manifest");

        var error = Assert.Throws<InputFileException>(() => loader.Parse(text, path));

        Assert.Equal(path, error.FilePath);
        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{line}: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Tiny")]
    [InlineData("-tiny")]
    [InlineData("tiny model")]
    [InlineData("tiny/model")]
    public void Bad_ids_are_rejected(string id)
    {
        var text = $"version: 1\nmodels:\n  - path: a.gguf\n    id: \"{id}\"\n";

        var error = Assert.Throws<InputFileException>(() => loader.Parse(text, Path.Combine(folder.Path, "m.manifest")));

        Assert.Equal(4, error.Line);
        Assert.Contains($"invalid model id '{id}'", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_id_points_at_the_duplicate_and_the_first_definition()
    {
        var text = "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n  - id: b\n    path: b.gguf\n  - id: a\n    path: c.gguf\n";

        var error = Assert.Throws<InputFileException>(() => loader.Parse(text, Path.Combine(folder.Path, "m.manifest")));

        Assert.Equal(7, error.Line);
        Assert.Contains("duplicate model id 'a' (first defined on line 3)", error.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("models:\n  - id: a\n    path: a.gguf\n", 1, "missing required key 'version'")]
    [InlineData("version: 2\nmodels:\n  - id: a\n    path: a.gguf\n", 1, "unsupported version '2'")]
    [InlineData("version: 1\n", 1, "missing required key 'models'")]
    [InlineData("version: 1\nmodels: []\n", 2, "'models' is empty")]
    [InlineData("version: 1\nmodels: a.gguf\n", 2, "'models' must be a list")]
    [InlineData("version: 1\nmodel:\n  - id: a\n", 2, "unknown key 'model'")]
    [InlineData("version: 1\ndefaults: { threads: 0 }\nmodels:\n  - id: a\n    path: a.gguf\n", 2, "defaults: 'threads' must be positive")]
    [InlineData("", 1, "the manifest is empty")]
    [InlineData("- just\n- a list\n", 1, "must be a mapping")]
    [InlineData("version: 1\nmodels:\n  - id: a\n    path: \"a.gguf\n", 4, "not valid YAML")]
    [InlineData("version: 1\nversion: 1\nmodels:\n  - id: a\n    path: a.gguf\n", 2, "duplicate key 'version'")]
    public void Document_level_errors_name_the_line(string text, int line, string problem)
    {
        var error = Assert.Throws<InputFileException>(() => loader.Parse(text, Path.Combine(folder.Path, "m.manifest")));

        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_collects_every_error_in_line_order_while_Load_stops_at_the_first()
    {
        var path = folder.Write("models.manifest", """
            version: 1
            models:
              - id: Bad
                path: a.gguf
              - id: ok
                url: ftp://x/y.gguf
                sha256: "00"
              - id: ok
                path: b.gguf
                backend: { context_size: -5, colour: red }
            """);

        var result = loader.Validate(path);

        Assert.False(result.IsValid);
        Assert.Null(result.Manifest);
        Assert.Equal([3, 6, 7, 8, 10, 10], result.Errors.Select(e => e.Line ?? 0));
        Assert.All(result.Errors, e => Assert.Equal(path, e.FilePath));
        var first = Assert.Throws<InputFileException>(() => loader.Load(path));
        Assert.Equal(3, first.Line);
    }

    [Fact]
    public void Validate_returns_the_manifest_when_valid()
    {
        var path = folder.Write("models.manifest", Full);

        var result = loader.Validate(path);

        Assert.True(result.IsValid);
        Assert.Equal(2, result.Manifest!.Models.Length);
    }

    [Fact]
    public void Missing_file_names_the_path()
    {
        var path = Path.Combine(folder.Path, "nope.manifest");

        var error = Assert.Throws<InputFileException>(() => loader.Load(path));

        Assert.Equal(path, error.FilePath);
        Assert.Null(error.Line);
        Assert.Contains("not found", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_values_count_as_absent_for_optional_keys()
    {
        var manifest = loader.Parse("version: 1\ndefaults:\nmodels:\n  - id: a\n    path: a.gguf\n    description:\n    backend: ~\n", Path.Combine(folder.Path, "m.manifest"));

        Assert.Null(manifest.Models[0].Description);
        Assert.Equal(BuiltIn, manifest.Models[0].Backend);
    }

    [Fact]
    public void Content_hash_covers_the_bytes_of_parsed_text()
    {
        const string text = "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n";

        var manifest = loader.Parse(text, Path.Combine(folder.Path, "m.manifest"));

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text))), manifest.ContentSha256);
    }
}
