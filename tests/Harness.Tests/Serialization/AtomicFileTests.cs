using System.Text;
using Harness.Core.Serialization;
using Harness.Tests.Models;

namespace Harness.Tests.Serialization;

public sealed class AtomicFileTests
{
    [Fact]
    public void WriteAllText_replaces_the_content_and_leaves_only_the_target()
    {
        using var folder = new TempFolder();
        var target = folder.Write("report.md", "old");

        AtomicFile.WriteAllText(target, "new content");

        Assert.Equal("new content", File.ReadAllText(target));
        Assert.Equal(["report.md"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task WriteAsync_keeps_the_old_file_visible_while_writing_and_after_a_failure_and_removes_the_temporary()
    {
        using var folder = new TempFolder();
        var target = folder.Write("run.json", "old");
        string? seenWhileWriting = null;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => AtomicFile.WriteAsync(
            target,
            async (stream, token) =>
            {
                await stream.WriteAsync(Encoding.UTF8.GetBytes("half of the new"), token);
                await stream.FlushAsync(token);
                seenWhileWriting = await File.ReadAllTextAsync(target, token);
                throw new InvalidOperationException("writer failed");
            },
            CancellationToken.None));

        Assert.Equal("writer failed", error.Message);
        Assert.Equal("old", seenWhileWriting);
        Assert.Equal("old", File.ReadAllText(target));
        Assert.Equal(["run.json"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task WriteAsync_creates_a_missing_target()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "report.json");

        await AtomicFile.WriteAsync(target, (stream, token) => stream.WriteAsync("{}"u8.ToArray(), token).AsTask(), CancellationToken.None);

        Assert.Equal("{}", File.ReadAllText(target));
    }

    [Fact]
    public void Concurrent_writers_never_share_a_temporary_and_the_target_is_one_whole_write()
    {
        using var folder = new TempFolder();
        var target = Path.Combine(folder.Path, "sidecar.json");
        var contents = Enumerable.Range(0, 16).Select(i => new string((char)('a' + i), 64 * 1024)).ToArray();

        Parallel.ForEach(contents, text => AtomicFile.WriteAllText(target, text));

        Assert.Contains(File.ReadAllText(target), contents);
        Assert.Equal(["sidecar.json"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        Assert.NotEqual(AtomicFile.TemporaryPathFor(target), AtomicFile.TemporaryPathFor(target));
        Assert.Equal(folder.Path, Path.GetDirectoryName(AtomicFile.TemporaryPathFor(target)));
    }

    [Fact]
    public void Commit_puts_a_finished_file_in_place_of_the_target()
    {
        using var folder = new TempFolder();
        var target = folder.Write("model.gguf", "old");
        var temporary = AtomicFile.TemporaryPathFor(target);
        File.WriteAllText(temporary, "quantized");

        AtomicFile.Commit(temporary, target);

        Assert.Equal("quantized", File.ReadAllText(target));
        Assert.False(File.Exists(temporary));
    }

    [Fact]
    public void FlushDirectory_flushes_a_folder_on_unix_and_names_a_folder_it_cannot_open()
    {
        using var folder = new TempFolder();

        var flushed = AtomicFile.FlushDirectory(folder.Path);

        Assert.Equal(!OperatingSystem.IsWindows(), flushed);
        if (!OperatingSystem.IsWindows())
        {
            var missing = Path.Combine(folder.Path, "missing");
            var error = Assert.Throws<IOException>(() => AtomicFile.FlushDirectory(missing));
            Assert.Contains(missing, error.Message, StringComparison.Ordinal);
        }
    }
}
