using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>
/// A recipe's files from the shared local copy (../shared/datasets/&lt;LocalFolder&gt;/&lt;LocalPath&gt;), each checked
/// against its declared sha256 as the catalogue's fetch does, and the paths opened so far.
/// </summary>
internal sealed class SharedRecipeFiles(DataSource source) : IRecipeFiles
{
    private readonly ConcurrentDictionary<string, byte[]> opened = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Opened => [.. opened.Keys];

    public Stream Open(string path)
    {
        var file = source.Files.SingleOrDefault(f => f.Path == path)
            ?? throw new FileNotFoundException($"the recipe did not declare {path}", path);
        var bytes = opened.GetOrAdd(path, _ => File.ReadAllBytes(SharedDatasets.PathOf(Path.Combine(source.LocalFolder, file.LocalPath))));
        var actual = Convert.ToHexStringLower(SHA256.HashData(bytes));
        if (actual != file.Sha256)
        {
            throw new InvalidDataException($"{path}: sha256 {actual}, the recipe pins {file.Sha256}");
        }
        return new MemoryStream(bytes, writable: false);
    }
}

/// <summary>Writes converted suites as the catalogue will (suite.yaml + items.jsonl) so tests can load them back.</summary>
internal static class SharedSuiteWriter
{
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>The two files' text, for byte comparisons.</summary>
    public static (string Yaml, string Items) Render(ConvertedSuite suite) =>
        (SuiteYamlWriter.Write(suite.Definition), TaskWriter.ItemsJsonl(suite.Items));

    /// <summary>Writes <c>tasksDirectory/&lt;name&gt;/</c> and returns the folder.</summary>
    public static string Write(ConvertedSuite suite, string tasksDirectory)
    {
        var directory = Path.Combine(tasksDirectory, suite.Definition.Name);
        Directory.CreateDirectory(directory);
        var (yaml, items) = Render(suite);
        File.WriteAllText(Path.Combine(directory, SuiteLoader.SuiteFileName), yaml, Utf8);
        File.WriteAllText(Path.Combine(directory, SuiteLoader.ItemsFileName), items, Utf8);
        return directory;
    }
}
