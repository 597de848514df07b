using System.Diagnostics;
using System.IO.Compression;
using Harness.IntegrationTests.Cli;

namespace Harness.IntegrationTests.Packaging;

/// <summary>
/// <c>dotnet pack src/Harness.Cli</c> writes a pointer package and one package per platform, and a platform's package
/// carries only its own natives (it used to carry every platform's llama.cpp, ONNX Runtime and SkiaSharp: 385 MB).
/// Packs linux-x64 only (the SDK's own apphost, nothing to download) in this build's configuration, so only the CLI
/// itself compiles again.
/// </summary>
public sealed class ToolPackageTests
{
#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static readonly string[] OtherPlatforms = ["linux-arm64", "linux-musl-x64", "osx-arm64", "osx-x64", "win-x64", "win-arm64", "win-x86"];

    [Fact]
    public async Task The_linux_x64_package_holds_no_other_platforms_natives()
    {
        var output = Directory.CreateTempSubdirectory("harness-pack-").FullName;
        try
        {
            var start = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    "pack", Path.Combine(HarnessProcess.RepositoryRoot, "src", "Harness.Cli"), "-c", Configuration,
                    "-p:ToolPackageRuntimeIdentifiers=linux-x64", "-o", output, "--nologo",
                },
                WorkingDirectory = HarnessProcess.RepositoryRoot,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            var result = await HarnessProcess.RunToEndAsync(start, TimeSpan.FromMinutes(8), "dotnet pack src/Harness.Cli");
            Assert.True(result.ExitCode == 0, result.Output + result.Error);

            var pointer = Path.Combine(output, "Harness.Cli.0.1.0.nupkg");
            var linux = Path.Combine(output, "Harness.Cli.linux-x64.0.1.0.nupkg");
            Assert.Equal([pointer, linux], Directory.GetFiles(output, "*.nupkg").Order(StringComparer.Ordinal));
            Assert.True(new FileInfo(pointer).Length < 100_000, "the pointer package holds no binaries");

            using var zip = ZipFile.OpenRead(linux);
            var files = zip.Entries.Select(e => e.FullName).Where(n => n.StartsWith("tools/", StringComparison.Ordinal)).ToList();
            const string Root = "tools/net10.0/linux-x64/";
            Assert.All(files, f => Assert.StartsWith(Root, f, StringComparison.Ordinal));
            // This platform's natives are all there: llama.cpp for each CPU level, ONNX Runtime, SkiaSharp, SQLite.
            foreach (var expected in new[]
                     {
                         "runtimes/linux-x64/native/avx2/libllama.so", "runtimes/linux-x64/native/noavx/libllama.so",
                         "libonnxruntime.so", "libSkiaSharp.so", "libe_sqlite3.so", "harness", "harness.dll",
                     })
            {
                Assert.Contains(Root + expected, files);
            }

            Assert.DoesNotContain(files, f => OtherPlatforms.Any(p => f.Contains($"/{p}/", StringComparison.Ordinal)));
            Assert.DoesNotContain(files, f => f.EndsWith(".dylib", StringComparison.Ordinal) || f.EndsWith(".so.dll", StringComparison.Ordinal)
                || Path.GetFileName(f) is "llama.dll" or "ggml.dll" or "onnxruntime.dll" or "libSkiaSharp.dll" or "e_sqlite3.dll");
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
