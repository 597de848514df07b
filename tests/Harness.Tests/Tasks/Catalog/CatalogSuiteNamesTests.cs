using Harness.Tasks.Catalog;

namespace Harness.Tests.Tasks.Catalog;

/// <summary><c>tasks list --catalog</c> names the suites a fetch writes without converting: the two must agree.</summary>
public sealed class CatalogSuiteNamesTests
{
    [RequiresSharedDatasetFact("nutcracker-db")]
    public async Task Every_recipe_declares_exactly_the_suites_its_conversion_writes()
    {
        foreach (var recipe in BenchmarkCatalog.Recipes())
        {
            var files = await new LocalRecipeFileSource(SharedDatasets.Root).AcquireAsync(recipe, CancellationToken.None);
            var written = recipe.Convert(files, CancellationToken.None).Select(s => s.Definition.Name).Order(StringComparer.Ordinal);

            Assert.Equal(written, recipe.SuiteNames.Order(StringComparer.Ordinal));
        }
    }
}
