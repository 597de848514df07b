using System.Collections.Immutable;
using Harness.Core.Downloads;
using Harness.Core.Suites;
using Harness.Tasks.Catalog;
using Harness.Tests.Downloads;
using Harness.Tests.Models;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks.Catalog;

public sealed class CatalogFetchTests : IDisposable
{
    private static readonly string RowsText = FakeRecipe.Rows("Is water wet?", "Is the sky green?", "Ünïcödé?");

    private readonly TempFolder folder = new();
    private readonly HttpClient http = new();
    private readonly string datasets;
    private readonly string tasks;

    public CatalogFetchTests()
    {
        datasets = Path.Combine(folder.Path, "datasets");
        tasks = Path.Combine(folder.Path, "tasks");
        folder.Write(Path.Combine("datasets", "fake-bench", FakeRecipe.LocalPath), RowsText);
    }

    public void Dispose()
    {
        http.Dispose();
        folder.Dispose();
    }

    private static FakeRecipe Recipe(bool fail = false, int version = 1) => new("fake", FakeRecipe.Sha256Of(RowsText), version) { Fail = fail };

    private Task<FetchResult> FetchAsync(IBenchmarkRecipe recipe, bool force = false, CancellationToken cancellationToken = default) =>
        CatalogFetcher.FetchAsync(recipe, new LocalRecipeFileSource(datasets), tasks, force, cancellationToken);

    private string[] EntriesUnderTasks() =>
        Directory.Exists(tasks) ? Directory.GetFileSystemEntries(tasks, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task Fetch_writes_a_suite_that_loads_with_its_source_note()
    {
        var result = await FetchAsync(Recipe());

        var written = Assert.Single(result.Suites);
        Assert.Equal(SuiteWriteOutcome.Written, written.Outcome);
        Assert.Equal(Path.Combine(tasks, "fake"), written.Directory);
        var suite = SuiteLoader.Load(written.Directory);
        Assert.Equal(3, suite.Items.Length);
        Assert.Equal("Ünïcödé?", suite.Items[2].Fields["q"].GetString());
        Assert.Equal(["SOURCE.md", "items.jsonl", "suite.yaml"], Directory.GetFiles(written.Directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        var yaml = await File.ReadAllTextAsync(Path.Combine(written.Directory, "suite.yaml"));
        Assert.StartsWith("# Converted by the catalogue recipe fake (harness tasks fetch fake); see SOURCE.md.", yaml, StringComparison.Ordinal);
        Assert.DoesNotContain("TaskWriter.WriteAll", yaml, StringComparison.Ordinal);
        // Only the suite folder: no staging folder is left behind.
        Assert.Equal([Path.Combine(tasks, "fake")], Directory.GetDirectories(tasks));
    }

    [Fact]
    public async Task Source_note_names_repository_commit_files_licence_citation_lm_eval_file_differences_and_the_command()
    {
        var result = await FetchAsync(Recipe(version: 3));

        var note = await File.ReadAllTextAsync(Path.Combine(result.Suites[0].Directory, SourceMarkdown.FileName));
        Assert.Contains("https://github.com/example/fake-bench", note, StringComparison.Ordinal);
        Assert.Contains("- Commit: " + new string('a', 40), note, StringComparison.Ordinal);
        Assert.Contains($"| data/rows.jsonl | {FakeRecipe.Sha256Of(RowsText)} |", note, StringComparison.Ordinal);
        Assert.Contains("- Licence: MIT", note, StringComparison.Ordinal);
        Assert.Contains("@misc{fake, title={Fake}}", note, StringComparison.Ordinal);
        Assert.Contains("`lm_eval/tasks/fake/fake.yaml@4e7e0d4`", note, StringComparison.Ordinal);
        Assert.Contains("- Items are made up.", note, StringComparison.Ordinal);
        Assert.Contains("- Conversion version: 3", note, StringComparison.Ordinal);
        Assert.Contains("harness tasks fetch fake --force", note, StringComparison.Ordinal);
        // Where the bytes were read from is not part of the note: a download and --from give the same folder.
        Assert.DoesNotContain(datasets, note, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_failing_conversion_leaves_no_folder()
    {
        var error = await Assert.ThrowsAsync<InvalidDataException>(() => FetchAsync(Recipe(fail: true)));

        Assert.Equal("data/rows.jsonl:1: fails on purpose", error.Message);
        Assert.Empty(EntriesUnderTasks());
    }

    [Fact]
    public async Task A_converted_suite_that_does_not_load_is_never_put_in_place()
    {
        var recipe = new FakeRecipe("fake", FakeRecipe.Sha256Of(RowsText)) { Invalid = true };

        var error = await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(recipe));

        Assert.Contains(Path.Combine(tasks, "fake"), error.Message, StringComparison.Ordinal);
        Assert.Contains("\"target\" that is one of \"choices\"", error.Message, StringComparison.Ordinal);
        Assert.Empty(EntriesUnderTasks());
    }

    [Fact]
    public async Task A_cancelled_fetch_leaves_no_folder()
    {
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => FetchAsync(Recipe(), cancellationToken: cancel.Token));

        Assert.Empty(EntriesUnderTasks());
    }

    [Fact]
    public async Task Fetching_again_is_up_to_date_and_touches_nothing()
    {
        var first = await FetchAsync(Recipe());
        var yaml = Path.Combine(first.Suites[0].Directory, "suite.yaml");
        var stamp = File.GetLastWriteTimeUtc(yaml);

        var second = await FetchAsync(Recipe());

        Assert.Equal(SuiteWriteOutcome.UpToDate, Assert.Single(second.Suites).Outcome);
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(yaml));
    }

    [Fact]
    public async Task Other_content_is_refused_without_force_and_replaced_with_it()
    {
        var first = await FetchAsync(Recipe());
        var directory = first.Suites[0].Directory;
        var edited = Path.Combine(directory, "items.jsonl");
        await File.AppendAllTextAsync(edited, "{\"id\":\"extra\",\"q\":\"x\",\"target\":\" yes\",\"choices\":[\" yes\",\" no\"]}\n");
        var editedBytes = await File.ReadAllBytesAsync(edited);

        var refused = await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(Recipe()));
        Assert.Contains(directory, refused.Message, StringComparison.Ordinal);
        Assert.Contains("--force", refused.Message, StringComparison.Ordinal);
        Assert.Equal(editedBytes, await File.ReadAllBytesAsync(edited));

        var forced = await FetchAsync(Recipe(), force: true);
        Assert.Equal(SuiteWriteOutcome.Replaced, Assert.Single(forced.Suites).Outcome);
        Assert.Equal(3, SuiteLoader.Load(directory).Items.Length);
        Assert.Equal([directory], Directory.GetDirectories(tasks));
    }

    [Fact]
    public async Task An_extra_file_in_the_folder_is_other_content()
    {
        var first = await FetchAsync(Recipe());
        folder.Write(Path.Combine("tasks", "fake", "notes.txt"), "mine");

        await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(Recipe()));
    }

    [Fact]
    public async Task A_conflict_in_one_suite_stops_the_recipe_before_any_folder_is_written()
    {
        var recipe = new FakeRecipe("fake", FakeRecipe.Sha256Of(RowsText)) { ExtraSuffixes = ["b"] };
        folder.Write(Path.Combine("tasks", "fake-b", "suite.yaml"), "someone else's");

        await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(recipe));

        Assert.False(Directory.Exists(Path.Combine(tasks, "fake")));
    }

    [Fact]
    public async Task Conversion_is_byte_deterministic_across_cultures()
    {
        var recipe = Recipe();
        var files = await new LocalRecipeFileSource(datasets).AcquireAsync(recipe, CancellationToken.None);

        var first = CatalogWriter.RenderFiles(recipe, recipe.Convert(files, CancellationToken.None)[0]);
        var second = Culture.Under("de-DE", () => CatalogWriter.RenderFiles(recipe, recipe.Convert(files, CancellationToken.None)[0]));

        Assert.Equal(first.Keys, second.Keys);
        Assert.All(first, f => Assert.Equal(f.Value, second[f.Key]));
    }

    [Fact]
    public async Task Local_checksum_mismatch_names_the_file_and_both_hashes()
    {
        var path = folder.Write(Path.Combine("datasets", "fake-bench", FakeRecipe.LocalPath), RowsText + "tampered\n");

        var error = await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(Recipe()));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected sha256 {FakeRecipe.Sha256Of(RowsText)}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"got {FakeRecipe.Sha256Of(RowsText + "tampered\n")}", error.Message, StringComparison.Ordinal);
        Assert.Empty(EntriesUnderTasks());
    }

    [Fact]
    public async Task A_missing_local_file_names_where_it_was_looked_for()
    {
        File.Delete(Path.Combine(datasets, "fake-bench", FakeRecipe.LocalPath));

        var error = await Assert.ThrowsAsync<CatalogException>(() => FetchAsync(Recipe()));

        Assert.Contains(Path.Combine(datasets, "fake-bench", FakeRecipe.LocalPath), error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(datasets, FakeRecipe.UpstreamPath), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task From_also_reads_a_checkout_of_the_upstream_repository()
    {
        var checkout = Path.Combine(folder.Path, "checkout");
        folder.Write(Path.Combine("checkout", FakeRecipe.UpstreamPath), RowsText);

        var files = await new LocalRecipeFileSource(checkout).AcquireAsync(Recipe(), CancellationToken.None);

        Assert.Equal(Path.Combine(checkout, FakeRecipe.UpstreamPath), Assert.Single(files.Files).LocalPath);
    }

    [Fact]
    public async Task Download_uses_the_raw_layout_and_the_dataset_cache_and_is_not_repeated()
    {
        var paths = new List<string>();
        await using var server = new LoopbackHttpServer(path =>
        {
            lock (paths)
            {
                paths.Add(path);
            }

            return new(200, System.Text.Encoding.UTF8.GetBytes(RowsText));
        });
        var cache = new HarnessCache(Path.Combine(folder.Path, "cache"));
        var source = new DownloadRecipeFileSource(new VerifiedDownloader(http, new FileHasher(cache.HashesDirectory)), cache.DatasetsDirectory, server.BaseUri, null);

        var first = await CatalogFetcher.FetchAsync(Recipe(), source, tasks, force: false, CancellationToken.None);
        var second = await CatalogFetcher.FetchAsync(Recipe(), source, tasks, force: false, CancellationToken.None);

        Assert.Equal([$"/example/fake-bench/{new string('a', 40)}/data/rows.jsonl"], paths);
        Assert.Equal(1, server.RequestCount);
        var sha = FakeRecipe.Sha256Of(RowsText);
        Assert.Equal(Path.Combine(cache.DatasetsDirectory, sha, "rows.jsonl"), Assert.Single(first.Files.Files).LocalPath);
        Assert.Equal(SuiteWriteOutcome.UpToDate, second.Suites[0].Outcome);
    }

    [Fact]
    public async Task A_download_with_other_bytes_is_a_checksum_error_and_nothing_is_cached_or_written()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, System.Text.Encoding.UTF8.GetBytes(RowsText + "x")));
        var cache = new HarnessCache(Path.Combine(folder.Path, "cache"));
        var source = new DownloadRecipeFileSource(new VerifiedDownloader(http, new FileHasher(cache.HashesDirectory)), cache.DatasetsDirectory, server.BaseUri, null);

        var error = await Assert.ThrowsAsync<DownloadException>(() => CatalogFetcher.FetchAsync(Recipe(), source, tasks, false, CancellationToken.None));

        Assert.Contains("checksum mismatch", error.Message, StringComparison.Ordinal);
        Assert.Contains("data/rows.jsonl", error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected sha256 {FakeRecipe.Sha256Of(RowsText)}", error.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(cache.DatasetsDirectory) && Directory.EnumerateFiles(cache.DatasetsDirectory, "*", SearchOption.AllDirectories).Any());
        Assert.Empty(EntriesUnderTasks());
    }

    [Fact]
    public async Task An_http_error_names_the_status_and_url()
    {
        await using var server = new LoopbackHttpServer(_ => new(404, "missing"u8.ToArray()));
        var cache = new HarnessCache(Path.Combine(folder.Path, "cache"));
        var source = new DownloadRecipeFileSource(new VerifiedDownloader(http, new FileHasher(cache.HashesDirectory)), cache.DatasetsDirectory, server.BaseUri, null);

        var error = await Assert.ThrowsAsync<DownloadException>(() => CatalogFetcher.FetchAsync(Recipe(), source, tasks, false, CancellationToken.None));

        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
        Assert.Contains("/example/fake-bench/", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_default_url_is_githubs_raw_host_at_the_pinned_commit()
    {
        var recipe = Recipe();

        var url = DownloadRecipeFileSource.UrlOf(DownloadRecipeFileSource.GitHubRaw, recipe.Source, recipe.Source.Files[0]);

        Assert.Equal($"https://raw.githubusercontent.com/example/fake-bench/{new string('a', 40)}/data/rows.jsonl", url.AbsoluteUri);
    }

    [Fact]
    public void Names_select_recipes_in_order_with_globs_and_without_repeats()
    {
        ImmutableArray<IBenchmarkRecipe> recipes = [new FakeRecipe("mmlu-anatomy", "0"), new FakeRecipe("mmlu-law", "0"), new FakeRecipe("arc-easy", "0")];

        var chosen = CatalogFetcher.Select(["arc-easy", "mmlu-*", "mmlu-law"], recipes);

        Assert.Equal(["arc-easy", "mmlu-anatomy", "mmlu-law"], chosen.Select(r => r.Name));
    }

    [Fact]
    public void An_unknown_name_lists_the_close_ones()
    {
        ImmutableArray<IBenchmarkRecipe> recipes = [new FakeRecipe("arc-easy", "0"), new FakeRecipe("arc-challenge", "0"), new FakeRecipe("gsm8k", "0")];

        var error = Assert.Throws<CatalogException>(() => CatalogFetcher.Select(["arc-esy"], recipes));
        var glob = Assert.Throws<CatalogException>(() => CatalogFetcher.Select(["hella*"], recipes));

        Assert.Equal("no catalogue entry is named 'arc-esy'; did you mean arc-easy?", error.Message);
        Assert.Contains("'hella*'", glob.Message, StringComparison.Ordinal);
        Assert.Contains("harness tasks list --catalog", glob.Message, StringComparison.Ordinal);
    }
}
