using System.Collections.Immutable;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Core.Models;

/// <summary>
/// Checks the local files of manifest entries without loading a weight: each must exist, a GGUF model's header,
/// metadata and tensor table must read, and a file the manifest gives a sha256 for must have it. A wrong path found here costs a second; found by a run, it costs a results
/// folder with nothing in it.
/// </summary>
public static class ModelFileCheck
{
    /// <summary>Every problem, each at the entry's line of the manifest and naming the model file.</summary>
    /// <param name="manifestPath">The manifest the entries come from; relative model paths resolve against its folder.</param>
    /// <param name="readHeaders">Also read each GGUF header and hash each file that has a sha256 in the manifest (what a
    /// run would find when it resolves the model, after its results folder exists); false checks only that each file
    /// exists.</param>
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
                continue;
            }

            if (entry.Source.Sha256 is { } expected)
            {
                string actual;
                using (var stream = File.OpenRead(fullPath))
                {
                    actual = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
                }

                if (!string.Equals(actual, expected, StringComparison.OrdinalIgnoreCase))
                {
                    problems.Add(new InputFileException(manifestPath, entry.Line,
                        $"model '{entry.Id}': file {fullPath} has sha256 {actual}, but the manifest says {expected.ToLowerInvariant()}: fix the sha256, or the file if it is not the one you meant"));
                }
            }
        }

        return problems.ToImmutable();
    }
}
