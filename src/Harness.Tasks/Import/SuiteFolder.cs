using System.Collections.Immutable;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tasks.Import;

/// <summary>Writes a new suite folder all at once: never a half-written or invalid folder under tasks/.</summary>
public static class SuiteFolder
{
    /// <summary>
    /// Writes <paramref name="files"/> into a temporary folder beside <paramref name="destination"/>, validates it
    /// (structure, scorer names and arguments) and renames it into place; an existing folder is replaced only with
    /// <paramref name="force"/>.
    /// </summary>
    /// <param name="source">The file named in problems (the imported file, or the suite being scaffolded).</param>
    /// <exception cref="ImportException">The folder exists without <paramref name="force"/>, or the written suite does not validate.</exception>
    public static void WriteAtomically(
        string destination, ImmutableSortedDictionary<string, byte[]> files, bool force, IEnumerable<IScorerFactory> scorerFactories, string source)
    {
        var parent = Path.GetDirectoryName(destination)!;
        var name = Path.GetFileName(destination);
        Directory.CreateDirectory(parent);
        // A dot-folder with the suite one level down: the suite keeps its own name (the loader requires it) and no
        // `harness run` over tasks/ sees it, as only folders directly under tasks/ holding a suite.yaml are suites.
        var staging = Path.Combine(parent, $".{name}.tmp-{Guid.NewGuid():N}");
        var staged = Path.Combine(staging, name);
        try
        {
            Directory.CreateDirectory(staged);
            foreach (var (file, bytes) in files)
            {
                File.WriteAllBytes(Path.Combine(staged, file), bytes);
            }
            var errors = SuiteValidator.Validate(staged, scorerFactories);
            if (!errors.IsEmpty)
            {
                throw new ImportException([.. errors.Select(e => new ImportProblem(source, "",
                    $"the written suite would not load: {Path.GetFileName(e.FilePath)}{(e.Line is { } l ? $":{l}" : "")}: {e.Problem}"))]);
            }
            if (Directory.Exists(destination))
            {
                if (!force)
                {
                    throw new ImportException(new ImportProblem(source, "", $"{destination} already exists (pass --force to replace it)"));
                }
                var previous = Path.Combine(staging, ".previous");
                Directory.Move(destination, previous);
                try
                {
                    Directory.Move(staged, destination);
                }
                catch (IOException)
                {
                    Directory.Move(previous, destination);
                    throw;
                }
            }
            else
            {
                Directory.Move(staged, destination);
            }
        }
        finally
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
    }
}
