using System.Collections.Immutable;

namespace Harness.Tasks.Catalog;

/// <summary>Every standard benchmark the harness can fetch, by catalogue name.</summary>
public static class BenchmarkCatalog
{
    /// <summary>The recipes in catalogue order (one line per family; keep the list sorted by family).</summary>
    public static ImmutableArray<IBenchmarkRecipe> Recipes() =>
    [
        .. ArcRecipe.All,
        new Recipes.IfEvalRecipe(),
        new Recipes.BbhRecipe(),
        new Recipes.Gsm8kRecipe(),
        new Recipes.Gsm8kCotRecipe(),
        new Recipes.MtBenchRecipe(),
        new Recipes.HellaSwagRecipe(),
        new Recipes.MmluRecipe(),
        new Recipes.PiqaRecipe(),
        new Recipes.TruthfulQaMc1Recipe(),
        new Recipes.WinograndeRecipe(),
    ];

    /// <summary>The recipe named <paramref name="name"/>, or null.</summary>
    public static IBenchmarkRecipe? Find(string name) =>
        Recipes().FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));
}
