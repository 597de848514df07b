using System.Collections.Immutable;
using Harness.Core.Models;
using Harness.Core.Suites;

namespace Harness.Core.Backends;

/// <summary>One thing a run will ask of a model's backend: what for (a suite, the drift pass, judging) and the ability it takes.</summary>
/// <param name="Suite">The suite it is for, named in the refusal; null where it is not one suite's items.</param>
/// <param name="Purpose">What asks for it, in words: <c>suite 'arith'</c>, <c>judging suite 'mt-bench'</c>.</param>
public sealed record BackendNeed(ModelEntry Model, string? Suite, string Purpose, BackendAbilities Ability);

/// <summary>
/// The planning-time check of a run: every model is described by its backend before anything is created, and a suite
/// the backend cannot serve refuses the run with the backend's reason, never a failure at item 137.
/// </summary>
public static class BackendPlanning
{
    /// <summary>The ability a suite's items take from the backend.</summary>
    public static BackendAbilities For(RequestKind request) =>
        request == RequestKind.LogLikelihood ? BackendAbilities.LogLikelihood : BackendAbilities.Generate;

    /// <summary>Where a model will be found before it is resolved: its local file or folder, its url (not fetched yet),
    /// or its server's endpoint.</summary>
    public static string PlannedLocation(ModelEntry model, string manifestDirectory)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Backend.Server is { } server ? server.BaseUrl.ToString()
            : model.Source.Path is { } path ? Path.GetFullPath(path, Path.GetFullPath(manifestDirectory))
            : model.Source.Url?.ToString() ?? "";
    }

    /// <summary>Describes each model of <paramref name="needs"/> once and checks every need against what it can do.</summary>
    /// <param name="advice">How to leave a refused pair out (e.g. "leave the pair out with --models or --suites").</param>
    /// <returns>Each model's description, by id.</returns>
    /// <exception cref="InputFileException">A backend cannot describe its model (a server that does not answer, a kind this
    /// build lacks) or lacks an ability a need takes; every refusal is named with its model, suite and reason.</exception>
    public static async Task<ImmutableSortedDictionary<string, BackendDescription>> CheckAsync(
        BackendRegistry registry, string manifestPath, IReadOnlyList<BackendNeed> needs, string advice, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(needs);
        var manifestDirectory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var descriptions = ImmutableSortedDictionary.CreateBuilder<string, BackendDescription>(StringComparer.Ordinal);
        var refusals = new List<(int Line, string Problem)>();
        foreach (var model in needs.Select(n => n.Model).DistinctBy(m => m.Id))
        {
            try
            {
                var provider = registry.For(model);
                descriptions[model.Id] = await provider.DescribeAsync(model, PlannedLocation(model, manifestDirectory), cancellationToken)
                    .ConfigureAwait(false);
            }
            catch (ModelLoadException ex)
            {
                refusals.Add((model.Line, $"model '{model.Id}': its {model.Backend.Kind.ManifestName()} backend cannot describe it: {ex.Message}"));
            }
        }

        foreach (var need in needs)
        {
            if (descriptions.TryGetValue(need.Model.Id, out var description)
                && description.Capabilities.WhyNot(need.Ability) is { } reason)
            {
                refusals.Add((need.Model.Line,
                    $"model '{need.Model.Id}' cannot serve {need.Purpose}: it needs the backend to {BackendCapabilities.Describe(need.Ability)}, and its {need.Model.Backend.Kind.ManifestName()} backend cannot ({reason})"));
            }
        }

        if (refusals.Count == 0)
        {
            return descriptions.ToImmutable();
        }

        var distinct = refusals.Distinct().ToList();
        throw distinct.Count == 1
            ? new InputFileException(manifestPath, distinct[0].Line, $"{distinct[0].Problem}; {advice}")
            : new InputFileException(manifestPath, null,
                $"{distinct.Count} model/suite pairs cannot run: {string.Join("; ", distinct.Select(r => $"line {r.Line}: {r.Problem}"))}; {advice}");
    }
}
