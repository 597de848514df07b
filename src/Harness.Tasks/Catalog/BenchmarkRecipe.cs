using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog;

/// <summary>One upstream file a recipe reads, pinned by its hash.</summary>
/// <param name="Path">Path inside the upstream repository at <see cref="DataSource.Commit"/> (the download URL's tail).</param>
/// <param name="LocalPath">Path of the same bytes inside a local copy's folder (<c>--from DIR</c>: DIR/<see cref="DataSource.LocalFolder"/>/LocalPath),
/// which may flatten the repository's folders.</param>
/// <param name="Sha256">Lower-case hex sha256 of the exact bytes; a file that hashes otherwise is refused.</param>
/// <param name="Optional">Always downloaded, but a local copy may lack it: the recipe then uses its own embedded copy of
/// the same bytes (verified by the same hash). See <see cref="IRecipeFiles.Contains"/>.</param>
public sealed record SourceFile(string Path, string LocalPath, string Sha256, bool Optional = false);

/// <summary>Where a benchmark's data lives upstream, pinned to one commit, with its licence and citation.</summary>
/// <param name="Repository">GitHub <c>owner/name</c>.</param>
/// <param name="Commit">Full 40-hex commit the files are read at.</param>
/// <param name="LocalFolder">Folder name of a local copy under a datasets root (e.g. <c>nutcracker-db</c>).</param>
/// <param name="Licence">SPDX id or licence name of the data.</param>
/// <param name="Citation">The paper to cite, as BibTeX or one line.</param>
public sealed record DataSource(
    string Repository,
    string Commit,
    string LocalFolder,
    ImmutableArray<SourceFile> Files,
    string Licence,
    string Citation);

/// <summary>A suite a recipe produced: its suite.yaml definition and its items, in the order they are written.</summary>
public sealed record ConvertedSuite(SuiteDefinition Definition, ImmutableArray<SuiteItem> Items);

/// <summary>The verified bytes of a recipe's source files, by <see cref="SourceFile.Path"/>.</summary>
public interface IRecipeFiles
{
    /// <summary>Opens the file's verified bytes. Throws <see cref="FileNotFoundException"/> for a path the recipe did not declare.</summary>
    Stream Open(string path);

    /// <summary>True when the declared file's verified bytes are available; false only for an
    /// <see cref="SourceFile.Optional"/> file a local copy lacks.</summary>
    /// <remarks>The default (every declared file is there) fits sources that hold all files, such as a test's in-memory copy.</remarks>
    bool Contains(string path) => true;
}

/// <summary>
/// A standard benchmark as a recipe: where its data lives, which lm-evaluation-harness task file it follows, and a
/// deterministic conversion from the upstream rows to one or more suites. Conversion is pure: the same bytes give the
/// same suites on every machine and culture.
/// </summary>
public interface IBenchmarkRecipe
{
    /// <summary>Catalogue name, <c>[a-z0-9-]+</c> (e.g. <c>arc-easy</c>); the suite folder names it writes start with it.</summary>
    string Name { get; }

    /// <summary>One line for <c>harness tasks list --catalog</c>.</summary>
    string Description { get; }

    DataSource Source { get; }

    /// <summary>The lm-evaluation-harness task file the recipe follows, as <c>path@commit</c> in EleutherAI/lm-evaluation-harness.</summary>
    string FollowsLmEval { get; }

    /// <summary>Bumped whenever the conversion changes its output; written into SOURCE.md.</summary>
    int ConversionVersion { get; }

    /// <summary>Deliberate differences from the lm-eval task (empty when none); written into SOURCE.md.</summary>
    ImmutableArray<string> Differences { get; }

    /// <summary>
    /// The suite folders the recipe writes, for <c>harness tasks list --catalog</c> (known without converting). The
    /// default is the catalogue name alone; a recipe that writes other or more suites (per subject, pooled) says which.
    /// </summary>
    ImmutableArray<string> SuiteNames => [Name];

    /// <summary>Converts the verified source files into suites.</summary>
    /// <exception cref="InvalidDataException">A row does not have the shape the recipe expects (the message names file and row).</exception>
    ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken);
}
