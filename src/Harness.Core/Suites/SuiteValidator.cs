using System.Collections.Immutable;
using Harness.Core.Scoring;

namespace Harness.Core.Suites;

/// <summary>
/// Checks suites without stopping at the first problem (for <c>harness validate</c>): every structural error of
/// every suite, and optionally whether each scorer exists and accepts its arguments.
/// </summary>
public static class SuiteValidator
{
    /// <summary>Every problem in every suite under <paramref name="tasksDirectory"/>; empty when all load.</summary>
    public static ImmutableArray<InputFileException> ValidateAll(string tasksDirectory) =>
        ValidateAll(tasksDirectory, []);

    /// <summary>
    /// As <see cref="ValidateAll(string)"/>, and also builds each suite's scorers with <paramref name="scorerFactories"/>:
    /// an unknown scorer name or arguments the factory rejects are reported at the scorer's line in suite.yaml.
    /// </summary>
    public static ImmutableArray<InputFileException> ValidateAll(string tasksDirectory, IEnumerable<IScorerFactory> scorerFactories)
    {
        var directories = SuiteLoader.SuiteDirectories(tasksDirectory, out var problem);
        if (problem is not null)
        {
            return [problem];
        }
        var factories = scorerFactories.ToImmutableArray();
        return [.. directories.SelectMany(d => Validate(d, factories))];
    }

    /// <summary>Every problem in one suite folder.</summary>
    public static ImmutableArray<InputFileException> Validate(string suiteDirectory, IEnumerable<IScorerFactory> scorerFactories)
    {
        var result = SuiteParser.Parse(suiteDirectory);
        var factories = scorerFactories.ToImmutableArray();
        if (factories.IsEmpty)
        {
            return result.Errors;
        }
        var yamlPath = Path.Combine(Path.GetFullPath(suiteDirectory), SuiteLoader.SuiteFileName);
        var errors = result.Errors.ToBuilder();
        foreach (var site in result.Scorers)
        {
            var factory = factories.FirstOrDefault(f => f.Name == site.Spec.Name);
            if (factory is null)
            {
                errors.Add(new InputFileException(yamlPath, site.Line,
                    $"unknown scorer '{site.Spec.Name}' (known: {string.Join(", ", factories.Select(f => f.Name).Order(StringComparer.Ordinal))})"));
                continue;
            }
            try
            {
                factory.Create(site.Spec.Arguments, Path.GetFullPath(suiteDirectory));
            }
            catch (ScorerArgumentException e)
            {
                // Its message names the scorer already.
                errors.Add(new InputFileException(yamlPath, site.Line, e.Message));
            }
            catch (ArgumentException e)
            {
                errors.Add(new InputFileException(yamlPath, site.Line, $"scorer '{site.Spec.Name}': {e.Message}"));
            }
        }
        return errors.ToImmutable();
    }
}
