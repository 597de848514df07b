using System.Collections.Immutable;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Core.Models;

/// <summary>
/// Checks the local files of manifest entries without loading a weight: each must exist, and a GGUF model's header,
/// metadata and tensor table must read. A wrong path found here costs a second; found by a run, it costs a results
/// folder with nothing in it.
/// </summary>
public static class ModelFileCheck
{
    /// <summary>Every problem, each at the entry's line of the manifest and naming the model file.</summary>
    /// <param name="manifestPath">The manifest the entries come from; relative model paths resolve against its folder.</param>
    /// <param name="readHeaders">Also read each GGUF header; false checks only that each file exists.</param>
    /// <remarks>Models with a <c>url</c> are not checked: they are downloaded, and verified by sha256, on first use.</remarks>
    public static ImmutableArray<InputFileException> Check(string manifestPath, IEnumerable<ModelEntry> entries, bool readHeaders)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var manifestDirectory = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var problems = ImmutableArray.CreateBuilder<InputFileException>();
        foreach (var entry in entries)
        {
            if (entry.Source.Path is not { } path)
            {
                continue;
            }

            var fullPath = Path.GetFullPath(path, manifestDirectory);
            if (!File.Exists(fullPath))
            {
                var why = Directory.Exists(fullPath) ? "is a folder, not a file" : "does not exist";
                problems.Add(new InputFileException(manifestPath, entry.Line, $"model '{entry.Id}': file {fullPath} {why}"));
                continue;
            }

            if (!readHeaders || entry.Format != ModelFormat.Gguf)
            {
                continue;
            }

            try
            {
                GgufReader.Read(fullPath);
            }
            catch (InputFileException ex)
            {
                problems.Add(new InputFileException(manifestPath, entry.Line, $"model '{entry.Id}': file {fullPath}: {ex.Problem}"));
            }
        }

        return problems.ToImmutable();
    }
}
