using System.Collections.Immutable;
using System.Text;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog;

/// <summary>What writing one catalogue suite folder did.</summary>
public enum SuiteWriteOutcome
{
    /// <summary>The folder did not exist and now holds the suite.</summary>
    Written,
    /// <summary>The folder already held exactly these bytes; nothing was touched.</summary>
    UpToDate,
    /// <summary>The folder held something else and <c>--force</c> replaced it.</summary>
    Replaced,
}

/// <param name="Directory">Full path of the suite folder.</param>
public sealed record SuiteWriteResult(string Suite, string Directory, SuiteWriteOutcome Outcome, int Items);

/// <summary>
/// Writes a recipe's suites to <c>tasks/&lt;suite&gt;/</c>, each folder all or nothing: it is built in a staging folder
/// inside the tasks folder (same file system), loaded back with <see cref="SuiteLoader"/>, and only then renamed into
/// place. An error or Ctrl+C leaves no half-written suite; the staging folder holds no suite.yaml at its top, so a run
/// that starts meanwhile never mistakes it for a suite.
/// </summary>
public static class CatalogWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>suite.yaml's leading comment for a catalogue suite.</summary>
    public static string Header(IBenchmarkRecipe recipe) =>
        $"Converted by the catalogue recipe {recipe.Name} (harness tasks fetch {recipe.Name}); see SOURCE.md. Change the recipe, not this file.";

    /// <summary>File name to exact bytes of one catalogue suite folder: suite.yaml, items.jsonl, the definition's extra files and SOURCE.md.</summary>
    public static ImmutableSortedDictionary<string, byte[]> RenderFiles(IBenchmarkRecipe recipe, ConvertedSuite suite)
    {
        var rendered = TaskWriter.RenderFiles(suite.Definition, suite.Items, Header(recipe));
        return rendered.SetItem(SourceMarkdown.FileName, Utf8.GetBytes(SourceMarkdown.Render(recipe, suite.Definition.Name)));
    }

    /// <summary>
    /// Writes every suite. All folders are checked before any is written: an existing folder with other content stops
    /// the whole fetch unless <paramref name="force"/>.
    /// </summary>
    /// <exception cref="CatalogException">A folder holds other content and <paramref name="force"/> is false, a suite name is not
    /// the recipe's, or a converted suite does not load (a recipe bug; nothing is written for it).</exception>
    public static ImmutableArray<SuiteWriteResult> WriteAll(
        IBenchmarkRecipe recipe, ImmutableArray<ConvertedSuite> suites, VerifiedRecipeFiles files, string tasksDirectory, bool force, CancellationToken cancellationToken)
    {
        var tasks = Path.GetFullPath(tasksDirectory);
        var planned = new List<(ConvertedSuite Suite, string Directory, ImmutableSortedDictionary<string, byte[]> Files, bool Exists)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var suite in suites)
        {
            var name = suite.Definition.Name;
            if (!(name == recipe.Name || name.StartsWith(recipe.Name + "-", StringComparison.Ordinal)) || !seen.Add(name))
            {
                throw new CatalogException($"recipe {recipe.Name}: suite name '{name}' is not '{recipe.Name}' or '{recipe.Name}-<subset>', or is repeated");
            }

            var directory = Path.Combine(tasks, name);
            var rendered = RenderFiles(recipe, suite);
            var exists = Directory.Exists(directory);
            if (exists && !force && !HoldsExactly(directory, rendered))
            {
                throw new CatalogException($"{directory}: folder exists with other content; nothing was written (pass --force to replace it)");
            }

            planned.Add((suite, directory, rendered, exists));
        }

        var results = ImmutableArray.CreateBuilder<SuiteWriteResult>();
        foreach (var (suite, directory, rendered, exists) in planned)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = exists && HoldsExactly(directory, rendered)
                ? SuiteWriteOutcome.UpToDate
                : WriteFolder(tasks, directory, rendered, exists, cancellationToken);
            results.Add(new SuiteWriteResult(suite.Definition.Name, directory, outcome, suite.Items.Length));
        }

        return results.ToImmutable();
    }

    /// <summary>True when the folder holds exactly these files (no more, no fewer) with exactly these bytes.</summary>
    internal static bool HoldsExactly(string directory, ImmutableSortedDictionary<string, byte[]> files)
    {
        if (Directory.GetDirectories(directory).Length > 0)
        {
            return false;
        }

        var present = Directory.GetFiles(directory).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        return present.SequenceEqual(files.Keys, StringComparer.Ordinal)
            && files.All(f => File.ReadAllBytes(Path.Combine(directory, f.Key)).AsSpan().SequenceEqual(f.Value));
    }

    private static SuiteWriteOutcome WriteFolder(
        string tasks, string directory, ImmutableSortedDictionary<string, byte[]> rendered, bool exists, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(tasks);
        var staging = Path.Combine(tasks, $".fetch-{Guid.NewGuid():N}.partial");
        var name = Path.GetFileName(directory);
        var built = Path.Combine(staging, name);
        try
        {
            Directory.CreateDirectory(built);
            foreach (var (file, bytes) in rendered)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var stream = new FileStream(Path.Combine(built, file), FileMode.CreateNew, FileAccess.Write, FileShare.None);
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }

            // A suite the harness cannot load must never land in tasks/.
            try
            {
                SuiteLoader.Load(built);
            }
            catch (InputFileException ex)
            {
                throw new CatalogException($"{directory}: the converted suite does not load, so nothing was written (a bug in the recipe): {ex.Problem}", ex);
            }
            cancellationToken.ThrowIfCancellationRequested();

            if (!exists)
            {
                Directory.Move(built, directory);
                return SuiteWriteOutcome.Written;
            }

            var old = Path.Combine(staging, name + ".old");
            Directory.Move(directory, old);
            try
            {
                Directory.Move(built, directory);
            }
            catch
            {
                Directory.Move(old, directory);
                throw;
            }

            return SuiteWriteOutcome.Replaced;
        }
        finally
        {
            TryDelete(staging);
        }
    }

    private static void TryDelete(string staging)
    {
        try
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A leftover staging folder holds no suite.yaml at its top, so no run loads it; the next fetch ignores it.
        }
    }
}
