using System.Diagnostics;
using Harness.Core.Runs;
using Harness.Tests.Models;

namespace Harness.Tests.Runs;

public sealed class RunFolderLockTests
{
    [Fact]
    public void A_second_writer_is_refused_naming_the_folder_and_the_holder_until_the_first_lets_go()
    {
        using var folder = new TempFolder();

        using (RunFolderLock.Acquire(folder.Path))
        {
            var busy = Assert.Throws<RunFolderBusyException>(() => RunFolderLock.Acquire(folder.Path));

            Assert.Equal(folder.Path, busy.RunDirectory);
            Assert.Contains(folder.Path, busy.Message, StringComparison.Ordinal);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(Environment.ProcessId, busy.HolderProcessId);
                Assert.Contains($"pid {Environment.ProcessId}", busy.Message, StringComparison.Ordinal);
            }
        }

        using var again = RunFolderLock.Acquire(folder.Path);
        Assert.Equal(folder.Path, again.RunDirectory);
    }

    [Fact]
    public void A_lock_file_left_behind_by_a_dead_process_does_not_block()
    {
        using var folder = new TempFolder();
        folder.Write(RunFolderLock.FileName, "999999\n");

        using var taken = RunFolderLock.Acquire(folder.Path);

        Assert.True(File.Exists(Path.Combine(folder.Path, RunFolderLock.FileName)));
    }

    [Fact]
    public async Task A_lock_held_by_another_process_blocks_and_is_free_once_that_process_is_killed()
    {
        // util-linux flock(1) takes the same flock(LOCK_EX) that .NET takes for FileShare.None; --no-fork keeps the
        // lock in one process (flock, then sh, then sleep by exec), so killing that process is what releases it.
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        using var folder = new TempFolder();
        var lockPath = Path.Combine(folder.Path, RunFolderLock.FileName);
        var ready = Path.Combine(folder.Path, "ready");
        using var holder = Process.Start(new ProcessStartInfo("flock", ["--exclusive", "--no-fork", lockPath, "sh", "-c", $"touch '{ready}'; exec sleep 60"])
        {
            UseShellExecute = false,
        })!;
        try
        {
            var waited = Stopwatch.StartNew();
            while (!File.Exists(ready))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), "flock never took the lock");
                await Task.Delay(20);
            }

            var busy = Assert.Throws<RunFolderBusyException>(() => RunFolderLock.Acquire(folder.Path));
            Assert.Contains(folder.Path, busy.Message, StringComparison.Ordinal);

            holder.Kill(entireProcessTree: true);
            await holder.WaitForExitAsync();

            using var taken = RunFolderLock.Acquire(folder.Path);
            Assert.Equal(folder.Path, taken.RunDirectory);
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill(entireProcessTree: true);
            }
        }
    }
}
