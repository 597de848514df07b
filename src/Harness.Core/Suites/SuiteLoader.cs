using System.Collections.Immutable;
using System.Security.Cryptography;

namespace Harness.Core.Suites;

/// <summary>
/// Loads <c>tasks/&lt;suite&gt;/suite.yaml</c> and <c>items.jsonl</c> into a <see cref="Suite"/>. The format is
/// documented in docs/suite-format.md; every problem is an <see cref="InputFileException"/> naming file and line.
/// </summary>
public static class SuiteLoader
{
    public const string SuiteFileName = "suite.yaml";
    public const string ItemsFileName = "items.jsonl";

    /// <summary>Loads one suite folder.</summary>
    /// <exception cref="InputFileException">The first problem found (use <see cref="SuiteValidator"/> to see them all).</exception>
    public static Suite Load(string suiteDirectory)
    {
        var result = SuiteParser.Parse(suiteDirectory);
        if (!result.Errors.IsEmpty)
        {
            throw result.Errors[0];
        }
        return result.Suite!;
    }

    /// <summary>Loads every subfolder of <paramref name="tasksDirectory"/> that holds a suite.yaml, ordered by folder name.</summary>
    /// <exception cref="InputFileException">The folder is missing, holds no suite, or a suite is invalid.</exception>
    public static ImmutableArray<Suite> LoadAll(string tasksDirectory)
    {
        var directories = SuiteDirectories(tasksDirectory, out var problem);
        if (problem is not null)
        {
            throw problem;
        }
        return [.. directories.Select(Load)];
    }

    /// <summary>Suite folders in ordinal name order, so runs and reports list suites the same way everywhere.</summary>
    internal static ImmutableArray<string> SuiteDirectories(string tasksDirectory, out InputFileException? problem)
    {
        var full = Path.GetFullPath(tasksDirectory);
        if (!Directory.Exists(full))
        {
            problem = new InputFileException(full, null, "tasks directory does not exist");
            return [];
        }
        var directories = Directory.GetDirectories(full)
            .Where(d => File.Exists(Path.Combine(d, SuiteFileName)))
            .Order(StringComparer.Ordinal)
            .ToImmutableArray();
        problem = directories.IsEmpty
            ? new InputFileException(full, null, $"no suite found (no subfolder holds a {SuiteFileName})")
            : null;
        return directories;
    }

    /// <summary>
    /// sha256 over suite.yaml, then items.jsonl, then every other top-level file (dot-files excluded) in ordinal
    /// name order: a scorer's data such as schema.json changes scores as surely as the items do.
    /// </summary>
    internal static string ContentSha256(string suiteDirectory)
    {
        var others = Directory.GetFiles(suiteDirectory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => n is not SuiteFileName and not ItemsFileName && !n.StartsWith('.'))
            .Order(StringComparer.Ordinal);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var name in new[] { SuiteFileName, ItemsFileName }.Concat(others))
        {
            hash.AppendData(File.ReadAllBytes(Path.Combine(suiteDirectory, name)));
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
