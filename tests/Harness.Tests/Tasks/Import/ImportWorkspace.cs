using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Tasks.Import;

namespace Harness.Tests.Tasks.Import;

/// <summary>A throw-away folder with data files written by the test and a tasks/ folder to import into.</summary>
internal sealed class ImportWorkspace : IDisposable
{
    public ImportWorkspace() => Root = Directory.CreateTempSubdirectory("harness-import-").FullName;

    public string Root { get; }

    public string Tasks => Path.Combine(Root, "tasks");

    /// <summary>Writes UTF-8 text exactly as given (no line-ending changes) and returns the path.</summary>
    public string Write(string name, string text)
    {
        var path = Path.Combine(Root, name);
        File.WriteAllText(path, text, new UTF8Encoding(false));
        return path;
    }

    /// <summary>Options for a fixed, generate suite named <c>imported</c> with the exact scorer; tests change what they test.</summary>
    public ImportOptions Options(string source, string template, string target) => new(
        source, "imported", SuiteKind.Fixed, RequestKind.Generate, template, null, target, null, null, false, "", null,
        [new ScorerSpec("exact", ImmutableSortedDictionary<string, JsonElement>.Empty.WithComparers(StringComparer.Ordinal))],
        new Requirement(0.9, 0.95, null, null), new GenerationSettings(16, ["\n"], 0, 0), Tasks, false);

    /// <summary>Options for a fixed, loglikelihood suite scored by choice.</summary>
    public ImportOptions ChoiceOptions(string source, string template, string target, string choices) =>
        Options(source, template, target) with
        {
            Request = RequestKind.LogLikelihood,
            ChoicesPath = choices,
            ChoicePrefix = " ",
            Generation = null,
            Scorers = [new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty.WithComparers(StringComparer.Ordinal))],
        };

    public static Task<ImportResult> ImportAsync(ImportOptions options) =>
        SuiteImporter.ImportAsync(options, ScorerRegistry.Default.Factories, CancellationToken.None);

    /// <summary>The messages of a refused import.</summary>
    public static async Task<string[]> ProblemsAsync(ImportOptions options)
    {
        var error = await Assert.ThrowsAsync<ImportException>(() => ImportAsync(options));
        return [.. error.Problems.Select(p => p.ToString())];
    }

    /// <summary>Nothing under tasks/: no suite, no staging folder.</summary>
    public void AssertNothingWritten() =>
        Assert.True(!Directory.Exists(Tasks) || Directory.GetFileSystemEntries(Tasks).Length == 0,
            string.Join(", ", Directory.Exists(Tasks) ? Directory.GetFileSystemEntries(Tasks) : []));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless.
        }
    }
}
