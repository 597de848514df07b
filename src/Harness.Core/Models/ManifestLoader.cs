using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Harness.Core.Backends;
using Harness.Core.Serialization.Yaml;
using Harness.Core.Suites;
using YamlDotNet.RepresentationModel;

namespace Harness.Core.Models;

/// <summary>The outcome of <see cref="ManifestLoader.Validate"/>: every problem found, and the manifest when there were none.</summary>
public sealed record ManifestValidation(ModelManifest? Manifest, ImmutableArray<InputFileException> Errors)
{
    public bool IsValid => Errors.IsEmpty;
}

/// <summary>
/// Reads <c>models.manifest</c> (YAML, format in docs/manifest-format.md) into a <see cref="ModelManifest"/>.
/// Every backend setting ends up explicit: model value, else the manifest's <c>defaults</c>, else the built-in default.
/// </summary>
public sealed partial class ManifestLoader
{
    public const int SupportedVersion = 1;

    private static readonly string[] TopLevelKeys = ["version", "defaults", "models"];
    private static readonly string[] ModelKeys = ["id", "path", "url", "sha256", "format", "description", "backend", "metadata"];

    // Where a served model answers: meaningful for backend.kind openai only, and per model (a default endpoint would send
    // every model of the manifest to one server).
    private static readonly string[] ServerKeys = ["endpoint", "model", "api_key_env", "max_concurrency"];

    private static readonly string[] BackendKeys =
        ["kind", "context_size", "threads", "batch_size", "gpu_layers", "chat_template", "parallel", "item_timeout_s", "load_timeout_s", .. ServerKeys];

    private const int MaxApiKeyVariableLength = 64;

    private readonly BackendOptions builtInDefaults;

    /// <summary>A loader whose built-in defaults are <see cref="BuiltInDefaults"/> for this machine.</summary>
    public ManifestLoader()
        : this(BuiltInDefaults())
    {
    }

    /// <summary>A loader with explicit built-in defaults (tests pin the thread count this way).</summary>
    public ManifestLoader(BackendOptions builtInDefaults)
    {
        this.builtInDefaults = builtInDefaults;
    }

    /// <summary>
    /// Used when neither the model nor <c>defaults</c> sets a value: context 2048, one thread per logical core,
    /// batch 512, no GPU layers, the model's own chat template, parallel sequences chosen by the backend (auto).
    /// </summary>
    public static BackendOptions BuiltInDefaults() =>
        new(ContextSize: 2048, Threads: System.Environment.ProcessorCount, BatchSize: 512, GpuLayers: 0, ChatTemplate: ChatTemplateMode.Auto);

    /// <summary>Loads and validates the manifest at <paramref name="path"/>, throwing on the first problem.</summary>
    /// <exception cref="InputFileException">The file is missing, not YAML, or breaks the schema; the message has file:line.</exception>
    public ModelManifest Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var problems = new Problems(fullPath, failFast: true);
        return Parse(ReadBytes(fullPath, problems)!, fullPath, problems)!;
    }

    /// <summary>Checks the manifest at <paramref name="path"/> and reports every problem instead of stopping at the first.</summary>
    public ManifestValidation Validate(string path)
    {
        var fullPath = Path.GetFullPath(path);
        var problems = new Problems(fullPath, failFast: false);
        var bytes = ReadBytes(fullPath, problems);
        var manifest = bytes is null ? null : Parse(bytes, fullPath, problems);
        return new ManifestValidation(problems.Count == 0 ? manifest : null, problems.ToImmutable());
    }

    /// <summary>Parses manifest text as if read from <paramref name="filePath"/> (used for messages and relative paths).</summary>
    public ModelManifest Parse(string text, string filePath)
    {
        var fullPath = Path.GetFullPath(filePath);
        return Parse(Encoding.UTF8.GetBytes(text), fullPath, new Problems(fullPath, failFast: true))!;
    }

    /// <summary>Like <see cref="Parse(string, string)"/> but collects every problem.</summary>
    public ManifestValidation ValidateText(string text, string filePath)
    {
        var fullPath = Path.GetFullPath(filePath);
        var problems = new Problems(fullPath, failFast: false);
        var manifest = Parse(Encoding.UTF8.GetBytes(text), fullPath, problems);
        return new ManifestValidation(problems.Count == 0 ? manifest : null, problems.ToImmutable());
    }

    private static byte[]? ReadBytes(string fullPath, Problems problems)
    {
        try
        {
            return File.ReadAllBytes(fullPath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            problems.Add(null, "manifest file not found");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            problems.Add(null, $"cannot read the manifest: {ex.Message}");
        }

        return null;
    }

    private ModelManifest? Parse(byte[] bytes, string fullPath, Problems problems)
    {
        var contentSha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        var before = problems.Count;
        var document = YamlSource.Load(bytes, (line, problem) => problems.Add(line, problem));
        if (document is null)
        {
            if (problems.Count == before)
            {
                problems.Add(1, "the manifest is empty; expected 'version: 1' and a 'models' list");
            }

            return null;
        }

        if (document is not YamlMappingNode root)
        {
            problems.Add(document.Start.Line, "the manifest must be a mapping with 'version' and 'models'");
            return null;
        }

        var keys = ReadKeys(root, TopLevelKeys, "the manifest", problems);

        if (keys.TryGetValue("version", out var versionNode))
        {
            if (!TryReadInt(versionNode, out var version) || version != SupportedVersion)
            {
                problems.Add(versionNode.Start.Line, $"unsupported version {YamlScalars.Describe(versionNode)}; this harness reads version {SupportedVersion}");
            }
        }
        else
        {
            problems.Add(root.Start.Line, $"missing required key 'version' (use 'version: {SupportedVersion}')");
        }

        var defaults = PartialBackend.Empty;
        if (keys.TryGetValue("defaults", out var defaultsNode) && !IsNull(defaultsNode))
        {
            defaults = ReadBackend(defaultsNode, "defaults", problems);
            foreach (var key in (string[])["kind", .. ServerKeys])
            {
                if (defaults.Keys.TryGetValue(key, out var node) && !IsNull(node))
                {
                    problems.Add(node.Start.Line,
                        $"defaults: '{key}' is set per model, not in defaults (a default would send every model of the manifest to one runtime or server); move it into the model's backend");
                }
            }
        }

        var models = ImmutableArray.CreateBuilder<ModelEntry>();
        if (!keys.TryGetValue("models", out var modelsNode) || IsNull(modelsNode))
        {
            problems.Add(modelsNode?.Start.Line ?? root.Start.Line, "missing required key 'models' (a list of model entries)");
        }
        else if (modelsNode is not YamlSequenceNode sequence)
        {
            problems.Add(modelsNode.Start.Line, "'models' must be a list of model entries");
        }
        else if (sequence.Children.Count == 0)
        {
            problems.Add(sequence.Start.Line, "'models' is empty; list at least one model");
        }
        else
        {
            var seenIds = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var node in sequence.Children)
            {
                var entry = ReadModel(node, defaults, seenIds, problems);
                if (entry is not null)
                {
                    models.Add(entry);
                }
            }
        }

        return problems.Count == 0 ? new ModelManifest(fullPath, models.ToImmutable(), contentSha256) : null;
    }

    private ModelEntry? ReadModel(YamlNode node, PartialBackend defaults, Dictionary<string, long> seenIds, Problems problems)
    {
        var line = node.Start.Line;
        if (node is not YamlMappingNode mapping)
        {
            problems.Add(line, "a model entry must be a mapping with at least 'id' and 'path' or 'url'");
            return null;
        }

        var before = problems.Count;
        var keys = ReadKeys(mapping, ModelKeys, "a model entry", problems);

        var id = ReadString(keys, "id", problems);
        if (id is null)
        {
            problems.Add(line, "model entry has no 'id'");
        }
        else if (!IdPattern().IsMatch(id))
        {
            problems.Add(keys["id"].Start.Line, $"invalid model id '{id}': use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit");
        }
        else if (seenIds.TryGetValue(id, out var firstLine))
        {
            problems.Add(keys["id"].Start.Line, $"duplicate model id '{id}' (first defined on line {firstLine})");
        }
        else
        {
            seenIds.Add(id, keys["id"].Start.Line);
        }

        var label = id is null ? "model entry" : $"model '{id}'";
        var backend = keys.TryGetValue("backend", out var backendNode) && !IsNull(backendNode)
            ? ReadBackend(backendNode, $"{label}: backend", problems)
            : PartialBackend.Empty;
        var path = ReadString(keys, "path", problems);
        var urlText = ReadString(keys, "url", problems);
        var sha256 = ReadString(keys, "sha256", problems);
        Uri? url = null;
        ModelFormat? format;
        ServerEndpoint? server = null;
        if (backend.Kind == BackendKind.OpenAi)
        {
            // A served model's weights live behind the server: there is no file to find, download or hash.
            foreach (var key in (string[])["path", "url", "sha256", "format"])
            {
                if (keys.TryGetValue(key, out var given) && !IsNull(given))
                {
                    problems.Add(given.Start.Line,
                        $"{label}: '{key}' cannot be used with backend.kind openai: the server holds the weights (name them with backend.model)");
                }
            }

            format = ModelFormat.Served;
            server = ReadServer(backend, $"{label}: backend", line, problems);
        }
        else
        {
            if (path is not null && urlText is not null)
            {
                problems.Add(line, $"{label} has both 'path' and 'url'; give exactly one");
            }
            else if (path is null && urlText is null)
            {
                problems.Add(line, $"{label} has neither 'path' nor 'url'; give exactly one (or backend.kind: openai with backend.endpoint for a model behind a server)");
            }

            if (path is not null && string.IsNullOrWhiteSpace(path))
            {
                problems.Add(keys["path"].Start.Line, $"{label}: 'path' is empty");
            }

            if (urlText is not null)
            {
                if (!Uri.TryCreate(urlText, UriKind.Absolute, out url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
                {
                    problems.Add(keys["url"].Start.Line, $"{label}: 'url' must be an absolute http(s) URL, got '{urlText}'");
                    url = null;
                }
                else if (sha256 is null)
                {
                    problems.Add(line, $"{label}: a model with 'url' needs 'sha256' so the download can be verified");
                }
            }

            if (sha256 is not null)
            {
                if (Sha256Pattern().IsMatch(sha256))
                {
                    sha256 = sha256.ToLowerInvariant();
                }
                else
                {
                    problems.Add(keys["sha256"].Start.Line, $"{label}: 'sha256' must be 64 hexadecimal digits, got '{sha256}'");
                }
            }

            format = ReadFormat(keys, label, path ?? url?.AbsolutePath, line, problems);
            if (format is { } local)
            {
                CheckLocalKind(backend, local, label, line, problems);
            }
        }

        var description = ReadString(keys, "description", problems);

        var metadata = keys.TryGetValue("metadata", out var metadataNode) && !IsNull(metadataNode)
            ? ReadMetadata(metadataNode, label, problems)
            : ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);

        if (problems.Count != before || id is null || format is null)
        {
            return null;
        }

        var effective = new BackendOptions(
            backend.ContextSize ?? defaults.ContextSize ?? builtInDefaults.ContextSize,
            backend.Threads ?? defaults.Threads ?? builtInDefaults.Threads,
            backend.BatchSize ?? defaults.BatchSize ?? builtInDefaults.BatchSize,
            backend.GpuLayers ?? defaults.GpuLayers ?? builtInDefaults.GpuLayers,
            backend.ChatTemplate ?? defaults.ChatTemplate ?? builtInDefaults.ChatTemplate,
            backend.Parallel.HasValue ? NullIfAuto(backend.Parallel.Value)
                : defaults.Parallel.HasValue ? NullIfAuto(defaults.Parallel.Value) : builtInDefaults.ParallelSequences,
            Seconds(backend.ItemTimeoutSeconds ?? defaults.ItemTimeoutSeconds) ?? builtInDefaults.ItemTimeout,
            Seconds(backend.LoadTimeoutSeconds ?? defaults.LoadTimeoutSeconds) ?? builtInDefaults.LoadTimeout,
            backend.Kind ?? BackendKinds.DefaultFor(format.Value),
            server);

        return new ModelEntry(id, format.Value, new ModelSource(path, url, sha256), effective, description, metadata, checked((int)line));
    }

    private static ModelFormat? ReadFormat(Dictionary<string, YamlNode> keys, string label, string? location, long line, Problems problems)
    {
        var text = ReadString(keys, "format", problems);
        if (text is not null)
        {
            switch (text)
            {
                case "gguf":
                    return ModelFormat.Gguf;
                case "onnx":
                    return ModelFormat.Onnx;
                default:
                    problems.Add(keys["format"].Start.Line, $"{label}: unknown format '{text}'; expected gguf or onnx");
                    return null;
            }
        }

        // Inferring from the extension is safe: a wrong guess fails at load, it cannot change a score.
        var extension = location is null ? string.Empty : Path.GetExtension(location);
        if (extension.Equals(".gguf", StringComparison.OrdinalIgnoreCase))
        {
            return ModelFormat.Gguf;
        }

        if (extension.Equals(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            return ModelFormat.Onnx;
        }

        if (location is not null)
        {
            problems.Add(line, $"{label}: no 'format' and the file name does not end in .gguf or .onnx; add 'format: gguf' or 'format: onnx'");
        }

        return null;
    }

    private static PartialBackend ReadBackend(YamlNode node, string label, Problems problems)
    {
        if (node is not YamlMappingNode mapping)
        {
            problems.Add(node.Start.Line, $"{label} must be a mapping of backend settings ({string.Join(", ", BackendKeys)})");
            return PartialBackend.Empty;
        }

        var keys = ReadKeys(mapping, BackendKeys, label, problems);
        return new PartialBackend(
            keys,
            ReadKind(keys, label, problems),
            ReadBoundedInt(keys, "context_size", label, minimum: 1, problems),
            ReadBoundedInt(keys, "threads", label, minimum: 1, problems),
            ReadBoundedInt(keys, "batch_size", label, minimum: 1, problems),
            ReadBoundedInt(keys, "gpu_layers", label, minimum: 0, problems),
            ReadChatTemplate(keys, label, problems),
            ReadParallel(keys, label, problems),
            ReadBoundedInt(keys, "item_timeout_s", label, minimum: 1, problems),
            ReadBoundedInt(keys, "load_timeout_s", label, minimum: 1, problems));
    }

    private static BackendKind? ReadKind(Dictionary<string, YamlNode> keys, string label, Problems problems)
    {
        var text = ReadString(keys, "kind", problems);
        if (text is null)
        {
            return null;
        }

        if (BackendKinds.TryParse(text, out var kind))
        {
            return kind;
        }

        problems.Add(keys["kind"].Start.Line,
            $"{label}: unknown kind '{text}'; expected {string.Join(", ", BackendKinds.All.Select(k => k.Name))}");
        return null;
    }

    // A local model's kind must read its format, and the server keys belong to kind openai only.
    private static void CheckLocalKind(PartialBackend backend, ModelFormat format, string label, long line, Problems problems)
    {
        var kind = backend.Kind ?? BackendKinds.DefaultFor(format);
        var reads = kind switch
        {
            BackendKind.LlamaCpp => ModelFormat.Gguf,
            BackendKind.OnnxGenAi => ModelFormat.Onnx,
            _ => format,
        };
        if (reads != format)
        {
            var formatName = format == ModelFormat.Gguf ? "gguf" : "onnx";
            problems.Add(backend.Keys.TryGetValue("kind", out var kindNode) ? kindNode.Start.Line : line,
                $"{label}: backend.kind {kind.ManifestName()} cannot run a {formatName} model (use kind {BackendKinds.DefaultFor(format).ManifestName()}, or leave kind out)");
        }

        foreach (var key in ServerKeys)
        {
            if (backend.Keys.TryGetValue(key, out var node) && !IsNull(node))
            {
                problems.Add(node.Start.Line, $"{label}: backend.{key} is for backend.kind openai only (a model behind a server)");
            }
        }
    }

    private static ServerEndpoint? ReadServer(PartialBackend backend, string label, long line, Problems problems)
    {
        var keys = backend.Keys;
        Uri? endpoint = null;
        var endpointText = ReadString(keys, "endpoint", problems);
        if (endpointText is null)
        {
            problems.Add(line, $"{label}: kind openai needs 'endpoint', the server's API root (e.g. http://127.0.0.1:8080/v1)");
        }
        else if (!Uri.TryCreate(endpointText, UriKind.Absolute, out endpoint)
            || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps)
            || endpoint.Query.Length > 0 || endpoint.Fragment.Length > 0)
        {
            problems.Add(keys["endpoint"].Start.Line,
                $"{label}: 'endpoint' must be an absolute http(s) base URL without query or fragment (e.g. http://127.0.0.1:8080/v1), got '{endpointText}'");
            endpoint = null;
        }

        var model = ReadString(keys, "model", problems);
        if (model is null || string.IsNullOrWhiteSpace(model))
        {
            problems.Add(keys.TryGetValue("model", out var modelNode) ? modelNode.Start.Line : line,
                $"{label}: kind openai needs 'model', the server's name of the model (what its /v1/models lists)");
            model = null;
        }

        var apiKeyVariable = ReadString(keys, "api_key_env", problems);
        if (apiKeyVariable is not null && (apiKeyVariable.Length > MaxApiKeyVariableLength || !EnvironmentVariablePattern().IsMatch(apiKeyVariable)))
        {
            // The value is never echoed: it may be the key itself, pasted where its variable's name belongs.
            problems.Add(keys["api_key_env"].Start.Line,
                $"{label}: 'api_key_env' is the NAME of the environment variable that holds the key (e.g. OPENAI_API_KEY: capitals, digits and '_', at most {MaxApiKeyVariableLength.ToString(CultureInfo.InvariantCulture)} characters), never the key itself; the value given is not such a name and is not shown");
            apiKeyVariable = null;
        }

        var maxConcurrency = ReadBoundedInt(keys, "max_concurrency", label, minimum: 1, problems) ?? 1;
        return endpoint is null || model is null ? null : new ServerEndpoint(endpoint, model, apiKeyVariable, maxConcurrency);
    }

    private static TimeSpan? Seconds(int? seconds) => seconds is { } s ? TimeSpan.FromSeconds(s) : null;

    // 0 stands for "auto" between parsing and the effective options, where it becomes null.
    private static int? NullIfAuto(int parallel) => parallel == 0 ? null : parallel;

    private static int? ReadParallel(Dictionary<string, YamlNode> keys, string label, Problems problems)
    {
        if (keys.TryGetValue("parallel", out var node) && YamlScalars.Text(node) == "auto")
        {
            return 0;
        }

        if (keys.TryGetValue("parallel", out node) && !IsNull(node) && !TryReadInt(node, out _))
        {
            problems.Add(node.Start.Line, $"{label}: 'parallel' must be 'auto' or a positive integer, got {YamlScalars.Describe(node)}");
            return null;
        }

        return ReadBoundedInt(keys, "parallel", label, minimum: 1, problems);
    }

    private static int? ReadBoundedInt(Dictionary<string, YamlNode> keys, string key, string label, int minimum, Problems problems)
    {
        if (!keys.TryGetValue(key, out var node) || IsNull(node))
        {
            return null;
        }

        if (!TryReadInt(node, out var value))
        {
            problems.Add(node.Start.Line, $"{label}: '{key}' must be an integer, got {YamlScalars.Describe(node)}");
            return null;
        }

        if (value < minimum)
        {
            var requirement = minimum == 1 ? "positive" : "zero or more";
            problems.Add(node.Start.Line, $"{label}: '{key}' must be {requirement}, got {value.ToString(CultureInfo.InvariantCulture)}");
            return null;
        }

        return value;
    }

    private static ChatTemplateMode? ReadChatTemplate(Dictionary<string, YamlNode> keys, string label, Problems problems)
    {
        var text = ReadString(keys, "chat_template", problems);
        switch (text)
        {
            case null:
                return null;
            case "auto":
                return ChatTemplateMode.Auto;
            case "none":
                return ChatTemplateMode.None;
            default:
                problems.Add(keys["chat_template"].Start.Line, $"{label}: 'chat_template' must be auto or none, got '{text}'");
                return null;
        }
    }

    private static ImmutableSortedDictionary<string, string> ReadMetadata(YamlNode node, string label, Problems problems)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        if (node is not YamlMappingNode mapping)
        {
            problems.Add(node.Start.Line, $"{label}: 'metadata' must be a mapping of names to text values");
            return builder.ToImmutable();
        }

        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            if (keyNode is not YamlScalarNode { Value: { Length: > 0 } key })
            {
                problems.Add(keyNode.Start.Line, $"{label}: metadata names must be plain text");
                continue;
            }

            if (valueNode is not YamlScalarNode)
            {
                problems.Add(valueNode.Start.Line, $"{label}: metadata '{key}' must be a text value, not a list or mapping");
                continue;
            }

            // A null value (metadata: { note: ~ }) is an absent one, as everywhere else in the manifest.
            if (YamlScalars.Text(valueNode) is { } text)
            {
                builder[key] = text;
            }
        }

        return builder.ToImmutable();
    }

    private static Dictionary<string, YamlNode> ReadKeys(YamlMappingNode mapping, string[] allowed, string where, Problems problems)
    {
        return YamlSource.Keys(mapping, allowed, (keyNode, key) =>
            problems.Add(keyNode.Start.Line, $"unknown key '{key}' in {where}; expected one of: {string.Join(", ", allowed)}"));
    }

    private static string? ReadString(Dictionary<string, YamlNode> keys, string key, Problems problems)
    {
        if (!keys.TryGetValue(key, out var node) || IsNull(node))
        {
            return null;
        }

        if (node is not YamlScalarNode)
        {
            problems.Add(node.Start.Line, $"'{key}' must be a text value, not a list or mapping");
            return null;
        }

        return YamlScalars.Text(node);
    }

    // The shared YAML rules (docs/yaml.md): a plain integer only; a quoted "5" is text.
    private static bool TryReadInt(YamlNode node, out int value) => YamlScalars.TryGetInt32(node, out value);

    /// <summary>A key written with no value (<c>key:</c>, <c>~</c>, <c>null</c>, <c>NULL</c>) counts as absent.</summary>
    private static bool IsNull(YamlNode node) => YamlScalars.IsNull(node);

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$", RegexOptions.CultureInvariant)]
    private static partial Regex IdPattern();

    [GeneratedRegex("^[0-9a-fA-F]{64}$", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();

    [GeneratedRegex("^[A-Z_][A-Z0-9_]*$", RegexOptions.CultureInvariant)]
    private static partial Regex EnvironmentVariablePattern();

    /// <param name="Keys">The keys as written, for the server settings and the lines of messages.</param>
    /// <param name="Parallel">0: <c>auto</c> written out; null: not given.</param>
    private sealed record PartialBackend(
        Dictionary<string, YamlNode> Keys, BackendKind? Kind,
        int? ContextSize, int? Threads, int? BatchSize, int? GpuLayers, ChatTemplateMode? ChatTemplate, int? Parallel,
        int? ItemTimeoutSeconds = null, int? LoadTimeoutSeconds = null)
    {
        public static PartialBackend Empty { get; } = new([], null, null, null, null, null, null, null);
    }

    /// <summary>Fail-fast mode throws at the first problem; collect mode keeps going so <c>harness validate</c> shows them all.</summary>
    private sealed class Problems(string filePath, bool failFast)
    {
        private readonly List<InputFileException> list = [];

        public int Count => list.Count;

        public void Add(long? line, string problem)
        {
            var error = new InputFileException(filePath, line is null ? null : checked((int)line.Value), problem);
            if (failFast)
            {
                throw error;
            }

            list.Add(error);
        }

        public ImmutableArray<InputFileException> ToImmutable() => [.. list.OrderBy(e => e.Line ?? 0)];
    }
}
