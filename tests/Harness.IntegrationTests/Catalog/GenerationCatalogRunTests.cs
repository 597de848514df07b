using Harness.Tests.Tasks;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;
using Harness.Store.Sqlite;
using Harness.Tasks;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;

namespace Harness.IntegrationTests.Catalog;

/// <summary>
/// GSM8K and BIG-Bench-Hard suites, converted from the shared upstream files, run end to end with <c>harness run</c>
/// on the shared Llama 2 vocabulary model: every item is generated and scored by extract_match (a random model
/// never states an answer, so strict extraction gives lm-eval's fallback).
/// </summary>
[Trait("Category", "Model")]
public sealed class GenerationCatalogRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(6);

    [RequiresSharedDatasetFact("bbh")]
    public async Task Gsm8k_and_bbh_suites_run_and_score_every_item()
    {
        const string model = "llama-2-tiny-random.gguf";
        Assert.True(File.Exists(SharedModels.PathOf(model)), $"{SharedModels.PathOf(model)} is missing");
        using var ws = new HarnessProcess.Workspace();
        var tasks = Path.Combine(ws.Root, "tasks-catalog");
        var suites = Convert(new Gsm8kCotRecipe()).Concat(Convert(new Gsm8kRecipe()))
            .Concat(Convert(new BbhRecipe()).Where(s => s.Definition.Name is "bbh-navigate" or "bbh"))
            .Select(s => s with { Items = s.Items[..3] })
            .ToArray();
        foreach (var suite in suites)
        {
            Write(suite, tasks);
        }

        await File.WriteAllTextAsync(Path.Combine(ws.Root, "catalog.manifest"), $$"""
            version: 1
            defaults: { context_size: 4096, threads: 1, batch_size: 512, gpu_layers: 0, chat_template: none }
            models:
              - { id: llama-tiny, path: "{{SharedModels.PathOf(model).Replace("\\", "/", StringComparison.Ordinal)}}" }
            """);

        string[] args = ["run", "--models", "catalog.manifest", .. suites.SelectMany(s => new[] { "--suite", $"tasks-catalog/{s.Definition.Name}" })];
        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, args);

        Assert.True(run.ExitCode == 0, $"exit {run.ExitCode}: {run.Output}{run.Error}");
        var store = await SqliteRunStore.OpenAsync(ws.SingleRunDirectory(), CancellationToken.None);
        await using (store)
        {
            var items = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                items.Add(item);
            }

            Assert.Equal(3 * suites.Length, items.Count);
            Assert.All(items, i => Assert.Equal(ItemStatus.Scored, i.Status));
            Assert.All(items, i => Assert.Equal("extract_match", i.Scores[0].Scorer));
        }
    }

    private static ImmutableArray<ConvertedSuite> Convert(IBenchmarkRecipe recipe) =>
        recipe.Convert(new LocalFiles(recipe.Source), CancellationToken.None);

    private static void Write(ConvertedSuite suite, string tasks)
    {
        var directory = Path.Combine(tasks, suite.Definition.Name);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, SuiteLoader.SuiteFileName), SuiteYamlWriter.Write(suite.Definition), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(directory, SuiteLoader.ItemsFileName), TaskWriter.ItemsJsonl(suite.Items), new UTF8Encoding(false));
    }

    /// <summary>The shared local copy, each file checked against its pin; optional files may be absent.</summary>
    private sealed class LocalFiles(DataSource source) : IRecipeFiles
    {
        private string PathOf(string path) =>
            Path.Combine(SharedDatasets.PathOf(source.LocalFolder), source.Files.Single(f => f.Path == path).LocalPath);

        public Stream Open(string path)
        {
            var bytes = File.ReadAllBytes(PathOf(path));
            Assert.Equal(source.Files.Single(f => f.Path == path).Sha256, System.Convert.ToHexStringLower(SHA256.HashData(bytes)));
            return new MemoryStream(bytes, writable: false);
        }

        public bool Contains(string path) => File.Exists(PathOf(path));
    }
}
