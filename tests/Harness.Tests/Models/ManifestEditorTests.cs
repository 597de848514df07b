using System.Collections.Immutable;
using System.Text;
using Harness.Core.Models;

namespace Harness.Tests.Models;

public sealed class ManifestEditorTests : IDisposable
{
    private static readonly BackendOptions BuiltIn = new(ContextSize: 2048, Threads: 6, BatchSize: 512, GpuLayers: 0, ChatTemplate: ChatTemplateMode.Auto);

    private readonly TempFolder folder = new();
    private readonly ManifestLoader loader = new(BuiltIn);
    private readonly ManifestEditor editor;

    public ManifestEditorTests()
    {
        editor = new ManifestEditor(loader);
    }

    public void Dispose() => folder.Dispose();

    private const string Commented = """
        # Models for the nightly run.
        version: 1
        defaults:
          threads: 2   # pinned so runs compare across machines
        models:
          # The base model.
          - id: tiny-arith-s
            path: models/tiny-arith-s.gguf
            backend: { context_size: 512, chat_template: none }
            metadata: { recipe: tiny-arith-s }

          # A flow-style entry, then a comment at the very end.
          - { id: other, path: models/other.gguf }
        # - id: big-one   (uncomment once downloaded)
        #   path: models/big-one.gguf

        """;

    private static NewManifestEntry Entry(string id = "tiny-arith-s-q8_0", string quantization = "Q8_0") => new(
        id,
        $"models/tiny-arith-s-{quantization.ToLowerInvariant()}.gguf",
        ModelFormat.Gguf,
        $"tiny-arith-s quantized to {quantization} by llama.cpp",
        [new("context_size", "512"), new("chat_template", "none")],
        new QuantizationLineage("tiny-arith-s", new string('a', 64), null, quantization, 123456, 8.5,
            "llama.cpp c0c7e14 via LLamaSharp 0.30.0", "F32:13 Q8_0:14", null).ToMetadata());

    [Fact]
    public void Append_keeps_every_comment_and_line_and_the_new_entry_loads_with_its_lineage()
    {
        var path = folder.Write("models.manifest", Commented);

        var result = editor.AddOrReplace(path, Entry());

        Assert.False(result.Replaced);
        var text = File.ReadAllText(path);
        // The entry goes right after the last entry, before the trailing commented-out one.
        var lastEntry = "  - { id: other, path: models/other.gguf }\n";
        var at = Commented.IndexOf(lastEntry, StringComparison.Ordinal) + lastEntry.Length;
        Assert.Equal(Commented[..at] + ManifestEditor.Render(Entry()) + Commented[at..], text);

        var manifest = loader.Load(path);
        Assert.Equal(["tiny-arith-s", "other", "tiny-arith-s-q8_0"], manifest.Models.Select(m => m.Id));
        var added = manifest.Models[2];
        Assert.Equal(result.Manifest.ContentSha256, manifest.ContentSha256);
        Assert.Equal("models/tiny-arith-s-q8_0.gguf", added.Source.Path);
        Assert.Equal("tiny-arith-s quantized to Q8_0 by llama.cpp", added.Description);
        Assert.Equal(new BackendOptions(512, 2, 512, 0, ChatTemplateMode.None), added.Backend);
        Assert.Equal("tiny-arith-s", added.Metadata["base_model"]);
        Assert.Equal(new string('a', 64), added.Metadata["base_sha256"]);
        Assert.Equal("Q8_0", added.Metadata["quantization"]);
        Assert.Equal("123456", added.Metadata["file_bytes"]);
        Assert.Equal("8.50", added.Metadata["bits_per_weight"]);
        Assert.Equal("llama.cpp c0c7e14 via LLamaSharp 0.30.0", added.Metadata["quantizer"]);
        Assert.Equal("F32:13 Q8_0:14", added.Metadata["tensor_types"]);
        Assert.False(added.Metadata.ContainsKey("fallback"));
    }

    [Fact]
    public void An_entry_with_the_same_id_is_replaced_in_place_not_duplicated()
    {
        var path = folder.Write("models.manifest", Commented);
        editor.AddOrReplace(path, Entry());
        var once = File.ReadAllText(path);
        editor.AddOrReplace(path, Entry(id: "tiny-arith-s-q4_k_m", quantization: "Q4_K_M"));

        var requantized = Entry() with { Metadata = [.. Entry().Metadata.Select(m => m.Key == "file_bytes" ? new KeyValuePair<string, string>(m.Key, "999") : m)] };
        var result = editor.AddOrReplace(path, requantized);

        Assert.True(result.Replaced);
        Assert.Equal(["tiny-arith-s", "other", "tiny-arith-s-q8_0", "tiny-arith-s-q4_k_m"], result.Manifest.Models.Select(m => m.Id));
        Assert.Equal("999", result.Manifest.Models[2].Metadata["file_bytes"]);
        Assert.Equal("Q4_K_M", result.Manifest.Models[3].Metadata["quantization"]);
        var text = File.ReadAllText(path);
        Assert.Equal(once.Replace("file_bytes: 123456", "file_bytes: 999", StringComparison.Ordinal),
            text.Replace(ManifestEditor.Render(Entry(id: "tiny-arith-s-q4_k_m", quantization: "Q4_K_M")), "", StringComparison.Ordinal));
    }

    [Fact]
    public void Replacing_an_entry_in_the_middle_keeps_the_comment_above_the_next_one()
    {
        var path = folder.Write("models.manifest", Commented);
        var replacement = Entry(id: "tiny-arith-s") with { Path = "models/tiny-arith-s-v2.gguf", Description = null, Backend = [] };

        var result = editor.AddOrReplace(path, replacement);

        Assert.True(result.Replaced);
        var text = File.ReadAllText(path);
        Assert.Contains("  # The base model.\n  - id: tiny-arith-s\n    path: models/tiny-arith-s-v2.gguf\n", text, StringComparison.Ordinal);
        Assert.Contains("\n\n  # A flow-style entry, then a comment at the very end.\n  - { id: other", text, StringComparison.Ordinal);
        Assert.DoesNotContain("recipe: tiny-arith-s", text, StringComparison.Ordinal);
        Assert.Equal(["tiny-arith-s", "other"], result.Manifest.Models.Select(m => m.Id));
        Assert.Equal(new BackendOptions(2048, 2, 512, 0, ChatTemplateMode.Auto), result.Manifest.Models[0].Backend);
    }

    [Fact]
    public void A_list_written_at_column_zero_with_crlf_and_a_bom_keeps_its_layout()
    {
        var original = "version: 1\r\nmodels:\r\n- id: a\r\n  path: a.gguf\r\n";
        var path = Path.Combine(folder.Path, "crlf.manifest");
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes(original)]);

        editor.AddOrReplace(path, new NewManifestEntry("a-q8_0", "a-q8_0.gguf", ModelFormat.Gguf, null, [], [new("quantization", "Q8_0")]));

        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal(original + "- id: a-q8_0\r\n  path: a-q8_0.gguf\r\n  format: gguf\r\n  metadata:\r\n    quantization: Q8_0\r\n", Encoding.UTF8.GetString(bytes[3..]));
        Assert.Equal(["a", "a-q8_0"], loader.Load(path).Models.Select(m => m.Id));
    }

    [Fact]
    public void A_file_without_a_final_newline_gets_the_entry_on_its_own_lines()
    {
        var (text, replaced) = editor.Edit("version: 1\nmodels:\n  - id: a\n    path: a.gguf", Path.Combine(folder.Path, "m.manifest"),
            new NewManifestEntry("b", "b.gguf", ModelFormat.Gguf, null, [], []));

        Assert.False(replaced);
        Assert.Equal("version: 1\nmodels:\n  - id: a\n    path: a.gguf\n  - id: b\n    path: b.gguf\n    format: gguf\n", text);
    }

    [Fact]
    public void Values_that_yaml_would_misread_are_quoted_and_read_back_unchanged()
    {
        string[] awkward = ["yes", "null", "~", "a: b", "# not a comment", "say \"hi\"\\", "ends:", "[x]", "{y}", "- dash", "", " lead", "tab\there", "ü"];
        var entry = new NewManifestEntry("q", "dir with space/q.gguf", ModelFormat.Gguf, "quoted \"description\": yes",
            [], [.. awkward.Select((v, i) => new KeyValuePair<string, string>($"k{i:00}", v))]);

        var (text, _) = editor.Edit("version: 1\nmodels:\n  - id: a\n    path: a.gguf\n", Path.Combine(folder.Path, "m.manifest"), entry);

        var added = loader.Parse(text, Path.Combine(folder.Path, "m.manifest")).Models[1];
        Assert.Equal(awkward, added.Metadata.Values);
        Assert.Equal("dir with space/q.gguf", added.Source.Path);
        Assert.Equal("quoted \"description\": yes", added.Description);
    }

    [Fact]
    public void Refuses_when_models_is_not_the_last_top_level_key_and_gives_the_entry_to_paste()
    {
        var text = "version: 1\nmodels:\n  - id: a\n    path: a.gguf\ndefaults:\n  threads: 2\n";
        var path = folder.Write("models.manifest", text);

        var ex = Assert.Throws<ManifestEditException>(() => editor.AddOrReplace(path, Entry()));

        Assert.Equal(path, ex.FilePath);
        Assert.Equal(5, ex.Line);
        Assert.Contains("'models:' is not the last top-level key ('defaults' follows it)", ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("  - id: tiny-arith-s-q8_0\n    path: models/tiny-arith-s-q8_0.gguf\n", ex.EntryText, StringComparison.Ordinal);
        Assert.Equal(text, File.ReadAllText(path));
    }

    [Theory]
    [InlineData("version: 1\nmodels: [ { id: a, path: a.gguf } ]\n", "flow list")]
    [InlineData("version: 1\nmodels:\n  - id: a\n    path: a.gguf\n...\n", "unexpected text")]
    [InlineData("version: 1\nmodels:\n  - id: a\n    path: [a.gguf\n", "does not load")]
    [InlineData("version: 1\nmodels:\n  - id: a\n", "does not load")]
    [InlineData("version: 1\nmodels:\n  -\n    id: a\n    path: a.gguf\n", "cannot find the '-'")]
    public void Refuses_a_manifest_it_cannot_edit_safely_and_leaves_it_unchanged(string text, string reason)
    {
        var path = folder.Write("models.manifest", text);

        var ex = Assert.Throws<ManifestEditException>(() => editor.AddOrReplace(path, Entry()));

        Assert.Contains(reason, ex.Problem, StringComparison.Ordinal);
        Assert.Equal(text, File.ReadAllText(path));
        Assert.Equal(["models.manifest"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void An_entry_that_would_not_load_leaves_the_old_file_and_no_temporary_file()
    {
        var path = folder.Write("models.manifest", Commented);
        var before = File.ReadAllBytes(path);

        var ex = Assert.Throws<ManifestEditException>(() => editor.AddOrReplace(path, Entry(id: "Not A Valid Id")));

        Assert.Contains("would not load", ex.Problem, StringComparison.Ordinal);
        Assert.Contains("invalid model id", ex.Problem, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["models.manifest"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void Explicit_backend_is_the_entry_s_own_settings_without_defaults()
    {
        var path = Path.Combine(folder.Path, "models.manifest");

        Assert.Equal(
            ["context_size=512", "chat_template=none"],
            editor.ExplicitBackend(Commented, path, "tiny-arith-s").Select(b => $"{b.Key}={b.Value}"));
        Assert.Empty(editor.ExplicitBackend(Commented, path, "other"));
        Assert.Empty(editor.ExplicitBackend(Commented, path, "unknown"));
    }

    [Fact]
    public void Render_gives_the_entry_for_a_two_space_list()
    {
        var entry = new NewManifestEntry("m-q8_0", "models/m-q8_0.gguf", ModelFormat.Gguf, "m quantized to Q8_0 by llama.cpp",
            [new("gpu_layers", "99")], [new("base_model", "m"), new("tensor_types", "F32:3 Q8_0:4")]);

        Assert.Equal("""
              - id: m-q8_0
                path: models/m-q8_0.gguf
                format: gguf
                description: "m quantized to Q8_0 by llama.cpp"
                backend: { gpu_layers: 99 }
                metadata:
                  base_model: m
                  tensor_types: "F32:3 Q8_0:4"

            """.Replace("\r\n", "\n", StringComparison.Ordinal), ManifestEditor.Render(entry));
    }

    [Fact]
    public void Lineage_numbers_use_the_invariant_culture()
    {
        using var culture = new Serialization.CultureScope("de-DE");

        var metadata = new QuantizationLineage("b", "s", "models/b.gguf", "Q4_K_M", 1234567, 4.8765, "q", "F32:1", "1/1 tensors: row size 64 not a multiple of 256").ToMetadata();

        Assert.Equal(
            ["base_model", "base_file", "base_sha256", "quantization", "file_bytes", "bits_per_weight", "quantizer", "tensor_types", "fallback"],
            metadata.Select(m => m.Key));
        Assert.Equal("4.88", metadata.Single(m => m.Key == "bits_per_weight").Value);
        Assert.Equal("1234567", metadata.Single(m => m.Key == "file_bytes").Value);
    }
}
