using System.Collections.Immutable;
using Harness.Core.Models;

namespace Harness.Core.Backends;

/// <summary>
/// One runtime as the registry knows it: the <see cref="IModelBackend"/> that loads its models, and what it can do for
/// a model before anything is loaded. Every place that runs a model (run, compare, judge, bench, worker) gets its
/// backend from <see cref="BackendRegistry"/>, never by naming an implementation.
/// </summary>
public interface IBackendProvider
{
    BackendKind Kind { get; }

    /// <summary>The loader. Native runtimes return one that runs each model in a worker process.</summary>
    IModelBackend Backend { get; }

    /// <summary>Library versions recorded in run.json (e.g. <c>llama.cpp=c0c7e14</c>); per-model details come with each load.</summary>
    ImmutableSortedDictionary<string, string> Versions { get; }

    /// <summary>
    /// What this backend can do for <paramref name="model"/> (a server is asked, a file is not loaded), and the
    /// identity of what will answer (a server's model name and digest where there is no local file to hash).
    /// </summary>
    /// <param name="location">The resolved local path of the model's file or folder; the endpoint URL of a served model.</param>
    /// <exception cref="ModelLoadException">The model cannot be described (server unreachable, folder without its config).</exception>
    Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken);
}

/// <param name="Identity">What identifies the model's weights when there is no local file to hash (a server's reported
/// model id, file, digest, build); empty for local files, whose sha256 identifies them.</param>
public sealed record BackendDescription(BackendCapabilities Capabilities, ImmutableSortedDictionary<string, string> Identity);

/// <summary>The backends of this build, by kind (as <c>ScorerRegistry</c> is for scorers).</summary>
public sealed class BackendRegistry
{
    private readonly ImmutableDictionary<BackendKind, IBackendProvider> _providers;

    public BackendRegistry(IEnumerable<IBackendProvider> providers)
    {
        var builder = ImmutableDictionary.CreateBuilder<BackendKind, IBackendProvider>();
        foreach (var provider in providers)
        {
            if (!builder.TryAdd(provider.Kind, provider))
            {
                throw new ArgumentException($"two backends registered for kind '{provider.Kind.ManifestName()}'", nameof(providers));
            }
        }

        _providers = builder.ToImmutable();
    }

    public IEnumerable<BackendKind> Kinds => _providers.Keys.Order();

    public bool TryGet(BackendKind kind, out IBackendProvider provider) => _providers.TryGetValue(kind, out provider!);

    /// <summary>The provider of <paramref name="model"/>'s kind.</summary>
    /// <exception cref="ModelLoadException">This build has no backend of that kind.</exception>
    public IBackendProvider For(ModelEntry model) =>
        _providers.TryGetValue(model.Backend.Kind, out var provider)
            ? provider
            : throw new ModelLoadException(
                $"model '{model.Id}': backend '{model.Backend.Kind.ManifestName()}' is not part of this build (available: {string.Join(", ", Kinds.Select(k => k.ManifestName()))})");
}
