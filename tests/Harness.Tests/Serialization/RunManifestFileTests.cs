using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;

namespace Harness.Tests.Serialization;

public sealed class RunManifestFileTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "harness-manifest-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task Write_then_read_round_trips_and_leaves_no_temporary_file()
    {
        RunManifest manifest = SampleRecords.Manifest();

        await RunManifestFile.WriteAsync(manifest, _directory, CancellationToken.None);
        await RunManifestFile.WriteAsync(manifest with { RunId = "second" }, _directory, CancellationToken.None);
        RunManifest back = await RunManifestFile.ReadAsync(_directory, CancellationToken.None);

        Assert.Equal("second", back.RunId);
        Assert.Equal(manifest.Host.CpuFeatures.ToArray(), back.Host.CpuFeatures.ToArray());
        Assert.Equal(["run.json"], Directory.GetFiles(_directory).Select(Path.GetFileName));
        string text = await File.ReadAllTextAsync(RunManifestFile.PathIn(_directory));
        Assert.StartsWith("{\n  \"schemaVersion\": 1,", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_schema_version_is_a_clear_error()
    {
        Directory.CreateDirectory(_directory);
        await File.WriteAllTextAsync(RunManifestFile.PathIn(_directory), "{ \"schemaVersion\": 2, \"runId\": \"x\" }");

        var error = await Assert.ThrowsAsync<InputFileException>(() => RunManifestFile.ReadAsync(_directory, CancellationToken.None));

        Assert.Contains("run.json", error.Message, StringComparison.Ordinal);
        Assert.Contains("schemaVersion 2 is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_schema_version_and_broken_json_name_the_file()
    {
        Directory.CreateDirectory(_directory);
        string path = RunManifestFile.PathIn(_directory);
        await File.WriteAllTextAsync(path, "{ \"runId\": \"x\" }");
        var missing = await Assert.ThrowsAsync<InputFileException>(() => RunManifestFile.ReadAsync(_directory, CancellationToken.None));

        await File.WriteAllTextAsync(path, "{\n  \"schemaVersion\": 1,\n  \"runId\": \n}");
        var broken = await Assert.ThrowsAsync<InputFileException>(() => RunManifestFile.ReadAsync(_directory, CancellationToken.None));

        Assert.Contains("schemaVersion", missing.Message, StringComparison.Ordinal);
        Assert.Equal(path, broken.FilePath);
        Assert.Equal(4, broken.Line);
    }

    [Fact]
    public async Task A_missing_file_is_named()
    {
        var error = await Assert.ThrowsAsync<InputFileException>(() => RunManifestFile.ReadAsync(_directory, CancellationToken.None));

        Assert.Equal(RunManifestFile.PathIn(_directory), error.FilePath);
    }
}
