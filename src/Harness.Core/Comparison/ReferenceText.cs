using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using Harness.Core.Suites;

namespace Harness.Core.Comparison;

/// <summary>
/// A text for perplexity: UTF-8, documents separated by blank lines. Each document is scored on its own from the
/// start of a context (BOS when the vocabulary adds one), so it must fit the smallest context of the compared models.
/// </summary>
public sealed record ReferenceText(string Path, string Sha256, ImmutableArray<string> Documents)
{
    /// <summary>The reference the project ships (written by <c>harness tasks generate</c>).</summary>
    public const string DefaultFileName = "reference.txt";

    /// <exception cref="InputFileException">Missing, unreadable or without a document.</exception>
    public static ReferenceText Load(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(full);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InputFileException(full, null, $"cannot read the reference text: {ex.Message}");
        }

        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException ex)
        {
            throw new InputFileException(full, null, $"the reference text is not valid UTF-8: {ex.Message}");
        }

        var documents = Split(text);
        if (documents.IsEmpty)
        {
            throw new InputFileException(full, null, "the reference text has no document (documents are separated by blank lines)");
        }

        return new ReferenceText(full, Convert.ToHexStringLower(SHA256.HashData(bytes)), documents);
    }

    /// <summary>Blank-line separated blocks, each without its surrounding line ends; CRLF is read as LF.</summary>
    public static ImmutableArray<string> Split(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var documents = ImmutableArray.CreateBuilder<string>();
        var current = new StringBuilder();
        foreach (var line in text.ReplaceLineEndings("\n").Split('\n'))
        {
            if (line.Trim().Length == 0)
            {
                Flush();
                continue;
            }

            if (current.Length > 0)
            {
                current.Append('\n');
            }

            current.Append(line);
        }

        Flush();
        return documents.ToImmutable();

        void Flush()
        {
            if (current.Length > 0)
            {
                documents.Add(current.ToString());
                current.Clear();
            }
        }
    }
}
