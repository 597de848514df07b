using System.Collections.Immutable;

namespace Harness.Tasks.Catalog;

/// <summary>One recipe fetched: the verified files it read and the suite folders it wrote.</summary>
public sealed record FetchResult(IBenchmarkRecipe Recipe, VerifiedRecipeFiles Files, ImmutableArray<SuiteWriteResult> Suites);

/// <summary><c>harness tasks fetch</c>: verified files in, deterministic suite folders out.</summary>
public static class CatalogFetcher
{
    /// <summary>Acquires the recipe's files from <paramref name="source"/>, converts them and writes the suites under <paramref name="tasksDirectory"/>.</summary>
    /// <exception cref="CatalogException">Missing or altered local file, or a suite folder with other content (without <paramref name="force"/>).</exception>
    /// <exception cref="Harness.Core.Downloads.DownloadException">A download failed or did not match its sha256.</exception>
    /// <exception cref="InvalidDataException">A source row has a shape the recipe does not expect (<c>file:row: problem</c>).</exception>
    public static async Task<FetchResult> FetchAsync(
        IBenchmarkRecipe recipe, IRecipeFileSource source, string tasksDirectory, bool force, CancellationToken cancellationToken)
    {
        var files = await source.AcquireAsync(recipe, cancellationToken);
        var suites = recipe.Convert(files, cancellationToken);
        if (suites.IsDefaultOrEmpty)
        {
            throw new InvalidDataException($"recipe {recipe.Name} produced no suite");
        }

        var written = CatalogWriter.WriteAll(recipe, suites, files, tasksDirectory, force, cancellationToken);
        return new FetchResult(recipe, files, written);
    }

    /// <summary>
    /// The recipes named by <paramref name="patterns"/>, in the order named, each once. A pattern is a catalogue name
    /// or a prefix with a trailing <c>*</c> (<c>arc-*</c>).
    /// </summary>
    /// <exception cref="CatalogException">A pattern matches nothing; the message lists the close names.</exception>
    public static ImmutableArray<IBenchmarkRecipe> Select(IEnumerable<string> patterns, ImmutableArray<IBenchmarkRecipe> recipes)
    {
        var chosen = ImmutableArray.CreateBuilder<IBenchmarkRecipe>();
        foreach (var pattern in patterns)
        {
            var matches = pattern.EndsWith('*')
                ? recipes.Where(r => r.Name.StartsWith(pattern[..^1], StringComparison.Ordinal)).ToArray()
                : recipes.Where(r => string.Equals(r.Name, pattern, StringComparison.Ordinal)).ToArray();
            if (matches.Length == 0)
            {
                var close = CloseNames(pattern.TrimEnd('*'), recipes.Select(r => r.Name));
                throw new CatalogException(close.IsEmpty
                    ? $"no catalogue entry is named '{pattern}' (harness tasks list --catalog lists them)"
                    : $"no catalogue entry is named '{pattern}'; did you mean {string.Join(", ", close)}?");
            }

            foreach (var match in matches.Where(m => !chosen.Contains(m)))
            {
                chosen.Add(match);
            }
        }

        return chosen.ToImmutable();
    }

    /// <summary>Names within a small edit distance of <paramref name="name"/>, or that contain it or start like it.</summary>
    internal static ImmutableArray<string> CloseNames(string name, IEnumerable<string> names) =>
    [
        .. names
            .Select(n => (Name: n, Distance: Distance(name, n)))
            .Where(x => x.Distance <= Math.Max(2, name.Length / 3)
                || (name.Length >= 3 && (x.Name.Contains(name, StringComparison.Ordinal) || name.Contains(x.Name, StringComparison.Ordinal))))
            .OrderBy(x => x.Distance)
            .ThenBy(x => x.Name, StringComparer.Ordinal)
            .Take(5)
            .Select(x => x.Name),
    ];

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
