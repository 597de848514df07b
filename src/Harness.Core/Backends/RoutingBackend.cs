using Harness.Core.Models;

namespace Harness.Core.Backends;

/// <summary>
/// The <see cref="IModelBackend"/> that every run, drift pass and judge pass loads through: each model goes to the backend
/// of its kind in <paramref name="registry"/>, so none of them names an implementation.
/// </summary>
public sealed class RoutingBackend(BackendRegistry registry) : IModelBackend
{
    public BackendRegistry Registry => registry;

    /// <summary>The kinds of this build, e.g. <c>llamacpp+openai</c>; each model's own backend is in its run.json entry.</summary>
    public string Name => string.Join('+', registry.Kinds.Select(k => k.ManifestName()));

    /// <exception cref="ModelLoadException">This build has no backend of the model's kind, or that backend cannot load it.</exception>
    public Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken) =>
        registry.For(model).Backend.LoadAsync(model, modelPath, cancellationToken);
}
