using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Suites;

namespace Harness.Tests.Models;

/// <summary><c>backend.kind</c> and the fields of a served model: defaults from the format, every problem at its line.</summary>
public sealed class ManifestBackendKindTests : IDisposable
{
    private static readonly BackendOptions BuiltIn = new(ContextSize: 2048, Threads: 6, BatchSize: 512, GpuLayers: 0, ChatTemplate: ChatTemplateMode.Auto);

    private readonly TempFolder folder = new();
    private readonly ManifestLoader loader = new(BuiltIn);

    public void Dispose() => folder.Dispose();

    private ModelManifest Parse(string entryTail) =>
        loader.Parse("version: 1\nmodels:\n  - id: a\n" + entryTail, Path.Combine(folder.Path, "m.manifest"));

    [Theory]
    [InlineData("    path: a.gguf\n", BackendKind.LlamaCpp, ModelFormat.Gguf)]
    [InlineData("    path: a-genai\n    format: onnx\n", BackendKind.OnnxGenAi, ModelFormat.Onnx)]
    [InlineData("    path: a.gguf\n    backend: { kind: llamacpp }\n", BackendKind.LlamaCpp, ModelFormat.Gguf)]
    [InlineData("    path: a-genai\n    format: onnx\n    backend: { kind: onnx-genai }\n", BackendKind.OnnxGenAi, ModelFormat.Onnx)]
    public void The_kind_defaults_from_the_format(string entryTail, BackendKind kind, ModelFormat format)
    {
        var model = Parse(entryTail).Models[0];

        Assert.Equal((kind, format), (model.Backend.Kind, model.Format));
        Assert.Null(model.Backend.Server);
    }

    [Fact]
    public void A_served_model_has_no_file_and_its_server_fields_are_read()
    {
        var model = Parse("""
                backend:
                  kind: openai
                  endpoint: http://127.0.0.1:8080/v1
                  model: stories260K
                  api_key_env: LLAMA_API_KEY
                  max_concurrency: 4
                  item_timeout_s: 30
            """.Replace("            ", "", StringComparison.Ordinal)).Models[0];

        Assert.Equal(ModelFormat.Served, model.Format);
        Assert.Equal(BackendKind.OpenAi, model.Backend.Kind);
        Assert.Equal(new ModelSource(null, null, null), model.Source);
        Assert.Equal(new ServerEndpoint(new Uri("http://127.0.0.1:8080/v1"), "stories260K", "LLAMA_API_KEY", 4), model.Backend.Server);
        Assert.Equal(TimeSpan.FromSeconds(30), model.Backend.ItemTimeout);
    }

    [Fact]
    public void Max_concurrency_defaults_to_one_request_at_a_time()
    {
        var model = Parse("    backend: { kind: openai, endpoint: \"https://example.invalid/v1\", model: m }\n").Models[0];

        Assert.Equal(new ServerEndpoint(new Uri("https://example.invalid/v1"), "m", null, 1), model.Backend.Server);
    }

    [Theory]
    [InlineData("    path: a.gguf\n    backend: { kind: vllm }\n", 5, "unknown kind 'vllm'; expected llamacpp, openai, onnx-genai")]
    [InlineData("    path: a.gguf\n    backend: { kind: onnx-genai }\n", 5, "backend.kind onnx-genai cannot run a gguf model (use kind llamacpp, or leave kind out)")]
    [InlineData("    path: a-genai\n    format: onnx\n    backend: { kind: llamacpp }\n", 6, "backend.kind llamacpp cannot run a onnx model")]
    [InlineData("    path: a.gguf\n    backend: { endpoint: \"http://h/v1\" }\n", 5, "backend.endpoint is for backend.kind openai only")]
    [InlineData("    path: a.gguf\n    backend: { max_concurrency: 2 }\n", 5, "backend.max_concurrency is for backend.kind openai only")]
    [InlineData("    path: a.gguf\n    backend: { kind: openai, endpoint: \"http://h/v1\", model: m }\n", 4, "'path' cannot be used with backend.kind openai")]
    [InlineData("    format: gguf\n    backend: { kind: openai, endpoint: \"http://h/v1\", model: m }\n", 4, "'format' cannot be used with backend.kind openai")]
    [InlineData("    backend: { kind: openai, model: m }\n", 3, "kind openai needs 'endpoint'")]
    [InlineData("    backend: { kind: openai, endpoint: \"http://h/v1\" }\n", 3, "kind openai needs 'model'")]
    [InlineData("    backend: { kind: openai, endpoint: \"http://h/v1\", model: \" \" }\n", 4, "kind openai needs 'model'")]
    [InlineData("    backend: { kind: openai, endpoint: \"ftp://h/v1\", model: m }\n", 4, "'endpoint' must be an absolute http(s) base URL")]
    [InlineData("    backend: { kind: openai, endpoint: \"/v1\", model: m }\n", 4, "'endpoint' must be an absolute http(s) base URL")]
    [InlineData("    backend: { kind: openai, endpoint: \"http://h/v1?key=1\", model: m }\n", 4, "without query or fragment")]
    [InlineData("    backend: { kind: openai, endpoint: \"http://h/v1\", model: m, max_concurrency: 0 }\n", 4, "'max_concurrency' must be positive, got 0")]
    [InlineData("    backend: { kind: openai, endpoint: \"http://h/v1\", model: m, api_key_env: lowercase_name }\n", 4, "'api_key_env' is the NAME of the environment variable")]
    public void Problems_name_the_model_and_line(string entryTail, int line, string problem)
    {
        var path = Path.Combine(folder.Path, "m.manifest");

        var error = Assert.Throws<InputFileException>(() => loader.Parse("version: 1\nmodels:\n  - id: a\n" + entryTail, path));

        Assert.Equal(line, error.Line);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
        Assert.StartsWith($"{path}:{line}: model 'a'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")]
    public void An_api_key_pasted_in_place_of_its_variable_name_is_refused_and_never_echoed(string key)
    {
        var error = Assert.Throws<InputFileException>(() =>
            Parse($"    backend: {{ kind: openai, endpoint: \"http://h/v1\", model: m, api_key_env: \"{key}\" }}\n"));

        Assert.Contains("never the key itself", error.Problem, StringComparison.Ordinal);
        Assert.DoesNotContain(key, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kind: openai")]
    [InlineData("endpoint: \"http://h/v1\"")]
    [InlineData("model: m")]
    [InlineData("api_key_env: KEY")]
    [InlineData("max_concurrency: 2")]
    public void Kind_and_server_fields_are_per_model_never_defaults(string setting)
    {
        var path = Path.Combine(folder.Path, "m.manifest");

        var error = Assert.Throws<InputFileException>(() =>
            loader.Parse($"version: 1\ndefaults: {{ {setting} }}\nmodels:\n  - id: a\n    path: a.gguf\n", path));

        Assert.Equal(2, error.Line);
        Assert.Contains("is set per model, not in defaults", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_collects_every_problem_of_a_served_entry()
    {
        var path = folder.Write("m.manifest", "version: 1\nmodels:\n  - id: a\n    path: a.gguf\n    sha256: 0\n    backend: { kind: openai }\n");

        var result = loader.Validate(path);

        Assert.Equal(
            [
                (3, "model 'a': backend: kind openai needs 'endpoint', the server's API root (e.g. http://127.0.0.1:8080/v1)"),
                (3, "model 'a': backend: kind openai needs 'model', the server's name of the model (what its /v1/models lists)"),
                (4, "model 'a': 'path' cannot be used with backend.kind openai: the server holds the weights (name them with backend.model)"),
                (5, "model 'a': 'sha256' cannot be used with backend.kind openai: the server holds the weights (name them with backend.model)"),
            ],
            result.Errors.Select(e => (e.Line ?? 0, e.Problem)).OrderBy(e => e.Item1).ThenBy(e => e.Item2, StringComparer.Ordinal));
    }

    [Fact]
    public void The_editor_writes_an_onnx_folder_entry_back_as_onnx()
    {
        var path = folder.Write("models.manifest", "version: 1\nmodels:\n  - id: base\n    path: base.gguf\n");

        var result = new ManifestEditor(loader).AddOrReplace(path, new NewManifestEntry(
            "base-onnx", "base-genai", ModelFormat.Onnx, null, [new("kind", "onnx-genai")], []));

        var added = result.Manifest.Models.Single(m => m.Id == "base-onnx");
        Assert.Equal((ModelFormat.Onnx, BackendKind.OnnxGenAi), (added.Format, added.Backend.Kind));
        Assert.Contains("format: onnx", File.ReadAllText(path), StringComparison.Ordinal);
    }

    [Fact]
    public void The_editor_refuses_to_write_a_served_entry_as_a_file()
    {
        var entry = new NewManifestEntry("s", "nowhere", ModelFormat.Served, null, [], []);

        Assert.Throws<ArgumentException>(() => ManifestEditor.Render(entry));
    }
}
