using System.Collections.Immutable;
using Harness.Core.Downloads;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Core.Models;

/// <summary>
/// Checks the local files of manifest entries without loading a weight: each must exist, a GGUF model's header,
/// metadata and tensor table must read, and (<see cref="CheckAsync"/>) a file the manifest gives a sha256 for must
/// have it. A wrong path found here costs a second; found by a run, it costs a results
/// folder with nothing in it.
/// </summary>
public static class ModelFileCheck
{
    /// <summary>Every problem, each at the entry's line of the manifest and naming the model file.</summary>
    /// <param name="manifestPath">The manifest the entries come from; relative model paths resolve against its folder.</param>
    /// <param name="readHeaders">Also read each GGUF header; false checks only that each file exists.</param>
    /// <remarks>Models with a <c>url</c> are not checked: they are downloaded, and verified by sha256, on first use. Served
    /// models (<c>backend.kind openai</c>) have no local file: nothing is checked, nothing is fetched.</remarks>
    public static ImmutableArray<InputFileException> Check(string manifestPath, IEnumerable<ModelEntry> entries, bool readHeaders)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var manifestDirectory = ManifestDirectory(manifestPath);
        return [.. entries.Select(entry => Problem(manifestPath, manifestDirectory, entry, readHeaders)).OfType<InputFileException>()];
    }

    /// <summary>
    /// <see cref="Check"/> with the headers read, and then each sound file the manifest gives a sha256 for hashed, what a
    /// run would find only when it resolves the model, after its results folder exists. Hashes go through
    /// <paramref name="hasher"/>, the one a run resolves models with, so a multi-gigabyte file is read once for both.
    /// </summary>
    public static async Task<ImmutableArray<InputFileException>> CheckAsync(
        string manifestPath, IEnumerable<ModelEntry> entries, FileHasher hasher, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entries);
        ArgumentNullException.ThrowIfNull(hasher);
        var manifestDirectory = ManifestDirectory(manifestPath);
        var problems = ImmutableArray.CreateBuilder<InputFileException>();
        foreach (var entry in entries)
        {
            if (Problem(manifestPath, manifestDirectory, entry, readHeaders: true) is { } problem)
            {
                problems.Add(problem);
                continue;
            }

            if (entry.Source is not { Path: { } path, Sha256: { } expected })
            {
                continue;
            }

            var fullPath = Path.GetFullPath(path, manifestDirectory);
            var actual = entry.Format == ModelFormat.Onnx
                ? (await ModelFolder.Sha256Async(hasher, fullPath, cancellationToken)).Sha256
                : await hasher.Sha256Async(fullPath, cancellationToken);
            if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
            {
                problems.Add(new InputFileException(manifestPath, entry.Line,
                    $"model '{entry.Id}': file {fullPath} has sha256 {actual}, but the manifest says {expected.ToLowerInvariant()}: fix the sha256, or the file if it is not the one you meant"));
            }
        }

        return problems.ToImmutable();
    }

    private static string ManifestDirectory(string manifestPath) => Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;

    private static InputFileException? Problem(string manifestPath, string manifestDirectory, ModelEntry entry, bool readHeaders)
    {
        if (entry.Source.Path is not { } path)
        {
            return null;
        }

        var fullPath = Path.GetFullPath(path, manifestDirectory);
        if (entry.Format == ModelFormat.Onnx)
        {
            // ONNX Runtime GenAI loads a folder: one without its config would pass as "ok" here and fail at load.
            return ModelFolder.Problem(fullPath) is { } problem
                ? new InputFileException(manifestPath, entry.Line, $"model '{entry.Id}': {problem}")
                : null;
        }

        if (!File.Exists(fullPath))
        {
            var why = Directory.Exists(fullPath) ? "is a folder, not a file" : "does not exist";
            return new InputFileException(manifestPath, entry.Line, $"model '{entry.Id}': file {fullPath} {why}");
        }

        if (!readHeaders || entry.Format != ModelFormat.Gguf)
        {
            return null;
        }

        try
        {
            GgufReader.Read(fullPath);
            return null;
        }
        catch (InputFileException ex)
        {
            return new InputFileException(manifestPath, entry.Line, $"model '{entry.Id}': file {fullPath}: {ex.Problem}");
        }
    }
}
