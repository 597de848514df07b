using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>
/// Test-only <see cref="IRecipeFiles"/> over a local copy (DIR/<see cref="DataSource.LocalFolder"/>/LocalPath):
/// every declared file is hashed against its pin, an optional one may be missing. The catalogue's own fetch code
/// does this for users; these tests only need the recipes' side of the contract.
/// </summary>
internal sealed class LocalRecipeFiles : IRecipeFiles
{
    private readonly ImmutableDictionary<string, byte[]> bytes;

    public LocalRecipeFiles(DataSource source, string datasetsRoot, IReadOnlyDictionary<string, byte[]>? extra = null)
    {
        var files = ImmutableDictionary.CreateBuilder<string, byte[]>(StringComparer.Ordinal);
        foreach (var file in source.Files)
        {
            byte[] content;
            if (extra is not null && extra.TryGetValue(file.Path, out var given))
            {
                content = given;
            }
            else
            {
                var path = Path.Combine(datasetsRoot, source.LocalFolder, file.LocalPath);
                if (!File.Exists(path))
                {
                    Assert.True(file.Optional, $"{path} is missing and not optional");
                    continue;
                }

                content = File.ReadAllBytes(path);
            }

            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(content)));
            files[file.Path] = content;
        }

        bytes = files.ToImmutable();
        Declared = source.Files.Select(f => f.Path).ToImmutableHashSet(StringComparer.Ordinal);
    }

    private ImmutableHashSet<string> Declared { get; }

    public Stream Open(string path) =>
        bytes.TryGetValue(path, out var content) ? new MemoryStream(content, writable: false) : throw new FileNotFoundException($"'{path}' is not available", path);

    public bool Contains(string path) =>
        Declared.Contains(path) ? bytes.ContainsKey(path) : throw new FileNotFoundException($"'{path}' was not declared", path);
}

/// <summary>Writes a recipe's suites as the catalogue does (suite.yaml + items.jsonl) and loads them back.</summary>
internal static class ConvertedSuiteFiles
{
    private static readonly UTF8Encoding Utf8 = new(false);

    public static ImmutableSortedDictionary<string, byte[]> Render(ConvertedSuite suite) =>
        new SortedDictionary<string, byte[]>(StringComparer.Ordinal)
        {
            [SuiteLoader.SuiteFileName] = Utf8.GetBytes(SuiteYamlWriter.Write(suite.Definition)),
            [SuiteLoader.ItemsFileName] = Utf8.GetBytes(TaskWriter.ItemsJsonl(suite.Items)),
        }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    public static Suite WriteAndLoad(ConvertedSuite suite, string tasksDirectory)
    {
        var directory = Path.Combine(tasksDirectory, suite.Definition.Name);
        Directory.CreateDirectory(directory);
        foreach (var (name, content) in Render(suite))
        {
            File.WriteAllBytes(Path.Combine(directory, name), content);
        }

        return SuiteLoader.Load(directory);
    }
}
