using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Downloads;
using Harness.Tests.Models;

namespace Harness.Tests.Downloads;

public sealed class FileHasherTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Hash_is_computed_and_its_sidecar_kept_in_the_cache_not_next_to_the_file()
    {
        var file = folder.Write("models/a.gguf", "hello");
        var sidecars = Path.Combine(folder.Path, "cache", "hashes");
        var hasher = new FileHasher(sidecars);

        var hash = await hasher.Sha256Async(file, CancellationToken.None);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("hello"u8)), hash);
        Assert.Equal(["a.gguf"], Directory.GetFiles(Path.GetDirectoryName(file)!).Select(Path.GetFileName));
        var sidecar = Assert.Single(Directory.GetFiles(sidecars));
        Assert.EndsWith(".sha256", sidecar, StringComparison.Ordinal);
        Assert.StartsWith("a.gguf.", Path.GetFileName(sidecar), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unchanged_file_is_not_rehashed_and_a_changed_one_is()
    {
        var file = folder.Write("a.gguf", "hello");
        var sidecars = Path.Combine(folder.Path, "hashes");
        var hasher = new FileHasher(sidecars);
        await hasher.Sha256Async(file, CancellationToken.None);

        // Plant a marker hash in the sidecar: getting it back proves the file was not read again.
        var sidecar = Directory.GetFiles(sidecars).Single();
        var node = JsonNode.Parse(await File.ReadAllTextAsync(sidecar))!;
        node["Sha256"] = "marker";
        await File.WriteAllTextAsync(sidecar, node.ToJsonString());
        Assert.Equal("marker", await new FileHasher(sidecars).Sha256Async(file, CancellationToken.None));

        await File.WriteAllTextAsync(file, "hello, world");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("hello, world"u8)), await hasher.Sha256Async(file, CancellationToken.None));
    }

    [Fact]
    public async Task Same_name_in_two_folders_gets_two_sidecars()
    {
        var first = folder.Write("x/a.gguf", "one");
        var second = folder.Write("y/a.gguf", "two");
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));

        var firstHash = await hasher.Sha256Async(first, CancellationToken.None);
        var secondHash = await hasher.Sha256Async(second, CancellationToken.None);

        Assert.NotEqual(firstHash, secondHash);
        Assert.Equal(firstHash, await hasher.Sha256Async(first, CancellationToken.None));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(folder.Path, "hashes")).Length);
    }

    [Fact]
    public async Task Damaged_sidecar_only_costs_a_rehash()
    {
        var file = folder.Write("a.gguf", "hello");
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));
        await hasher.Sha256Async(file, CancellationToken.None);
        await File.WriteAllTextAsync(Directory.GetFiles(Path.Combine(folder.Path, "hashes")).Single(), "{not json");

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData("hello"u8)), await hasher.Sha256Async(file, CancellationToken.None));
    }

    [Fact]
    public async Task Missing_file_throws_FileNotFoundException()
    {
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));

        await Assert.ThrowsAsync<FileNotFoundException>(() => hasher.Sha256Async(Path.Combine(folder.Path, "nope"), CancellationToken.None));
    }

    [Fact]
    public async Task Cancellation_is_honoured()
    {
        var file = folder.Write("a.gguf", new string('x', 1 << 20));
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hasher.Sha256Async(file, new CancellationToken(canceled: true)));
        Assert.False(Directory.Exists(Path.Combine(folder.Path, "hashes")) && Directory.GetFiles(Path.Combine(folder.Path, "hashes")).Length > 0);
    }

    [Fact]
    public void Sidecar_is_plain_json()
    {
        var file = folder.Write("a.gguf", "hello");
        var hasher = new FileHasher(Path.Combine(folder.Path, "hashes"));
        hasher.Remember(file, "ABC");

        using var document = JsonDocument.Parse(File.ReadAllText(hasher.SidecarPath(file)));

        Assert.Equal("abc", document.RootElement.GetProperty("Sha256").GetString());
        Assert.Equal(5, document.RootElement.GetProperty("SizeBytes").GetInt64());
    }
}
