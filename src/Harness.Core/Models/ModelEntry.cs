using System.Collections.Immutable;

namespace Harness.Core.Models;

/// <summary>What a model's bytes are: a GGUF file, an ONNX Runtime GenAI folder, or weights behind a server (no local file).</summary>
public enum ModelFormat { Gguf, Onnx, Served }

/// <summary><c>auto</c>: the GGUF's own chat template (plain text when it has none); <c>none</c>: plain text for base models.</summary>
public enum ChatTemplateMode { Auto, None }

/// <summary>
/// Backend settings for one model. All explicit: the manifest loader fills documented defaults and the
/// effective values are recorded in run.json.
/// </summary>
/// <param name="Threads">Generation threads (and batch threads).</param>
/// <param name="BatchSize">Logical batch size for prompt processing.</param>
/// <param name="GpuLayers">Layers offloaded to the GPU; 0 on CPU builds.</param>
/// <param name="ParallelSequences">Most sequences decoded together in one batch (continuous batching), each with its own
/// <paramref name="ContextSize"/>; null: chosen by the backend from its KV-cache budget. Never changes a score: batched
/// results equal single-stream ones (tested), only time per item and throughput differ.</param>
/// <param name="ItemTimeout">Fixed deadline of every request (manifest <c>item_timeout_s</c>, CLI <c>--item-timeout</c>);
/// null: derived from the request and the model's measured speed (see <see cref="Backends.WatchdogSettings"/>).</param>
/// <param name="LoadTimeout">Fixed deadline of a load (<c>load_timeout_s</c>, <c>--load-timeout</c>); null: derived from the file size.</param>
/// <param name="Kind">The runtime (<c>backend.kind</c>); the loader defaults it from the format (gguf: llamacpp, onnx: onnx-genai).</param>
/// <param name="Server">Where a served model (<see cref="Backends.BackendKind.OpenAi"/>) answers; null for local models.</param>
public sealed record BackendOptions(
    int ContextSize,
    int Threads,
    int BatchSize,
    int GpuLayers,
    ChatTemplateMode ChatTemplate,
    int? ParallelSequences = null,
    TimeSpan? ItemTimeout = null,
    TimeSpan? LoadTimeout = null,
    Backends.BackendKind Kind = Backends.BackendKind.LlamaCpp,
    ServerEndpoint? Server = null);

/// <summary>An OpenAI-compatible server (manifest <c>backend.endpoint</c>, <c>backend.model</c>, ...).</summary>
/// <param name="BaseUrl">The API root, e.g. <c>http://127.0.0.1:8080/v1</c> (requests go to <c>{BaseUrl}/completions</c>).</param>
/// <param name="Model">The server's name of the model (<c>model</c> of every request).</param>
/// <param name="ApiKeyVariable">The name of the environment variable holding the API key, never the key itself; null: no key.</param>
/// <param name="MaxConcurrency">Most requests in flight at once (the server batches them); 1: one at a time.</param>
public sealed record ServerEndpoint(Uri BaseUrl, string Model, string? ApiKeyVariable, int MaxConcurrency);

/// <summary>Where a model's bytes come from: a local path (relative to the manifest) or an http(s) URL with its sha256.</summary>
public sealed record ModelSource(string? Path, Uri? Url, string? Sha256);

/// <summary>One entry of <c>models.manifest</c>.</summary>
/// <param name="Line">1-based line of the entry in the manifest, for error messages.</param>
/// <param name="Metadata">Free-form provenance (recipe, seed, training-data hash, measured accuracy), shown and recorded, never interpreted.</param>
public sealed record ModelEntry(
    string Id,
    ModelFormat Format,
    ModelSource Source,
    BackendOptions Backend,
    string? Description,
    ImmutableSortedDictionary<string, string> Metadata,
    int Line);

/// <summary>A loaded <c>models.manifest</c>.</summary>
/// <param name="FilePath">Absolute path of the manifest; relative model paths resolve against its folder.</param>
public sealed record ModelManifest(string FilePath, ImmutableArray<ModelEntry> Models, string ContentSha256);
