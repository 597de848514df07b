using System.Globalization;
using System.Text;
using Harness.Core.Serialization;

namespace Harness.Core.Runs;

/// <summary>Another process holds the run folder's lock; nothing in the folder was changed.</summary>
public sealed class RunFolderBusyException(string runDirectory, int? holderProcessId)
    : Exception(Describe(runDirectory, holderProcessId))
{
    public string RunDirectory { get; } = runDirectory;

    /// <summary>The holder's process id as it wrote it into the lock file; null where it could not be read.</summary>
    public int? HolderProcessId { get; } = holderProcessId;

    private static string Describe(string runDirectory, int? pid) =>
        $"{runDirectory}: another harness process{(pid is { } p ? string.Create(CultureInfo.InvariantCulture, $" (pid {p})") : "")} "
        + "is writing to this run folder; wait for it to finish (or stop it) and try again";
}

/// <summary>
/// One writer per run folder: an exclusive lock on <c>run.lock</c> held while a command writes into the folder
/// (run, resume, report rebuild). The operating system releases it when the process ends, however it ends, so a
/// killed run never leaves a lock that blocks its resume. The file itself stays (deleting it would let two
/// processes lock two different files of the same name); it only holds the last holder's process id.
/// </summary>
public sealed class RunFolderLock : IDisposable
{
    public const string FileName = "run.lock";

    private readonly FileStream stream;

    private RunFolderLock(FileStream stream, string runDirectory)
    {
        this.stream = stream;
        RunDirectory = runDirectory;
    }

    public string RunDirectory { get; }

    /// <summary>Takes the lock at once or throws; creates the folder's lock file when missing.</summary>
    /// <exception cref="RunFolderBusyException">Another process (or another writer in this one) holds it.</exception>
    public static RunFolderLock Acquire(string runDirectory)
    {
        var directory = Path.GetFullPath(runDirectory);
        var path = Path.Combine(directory, FileName);
        FileStream stream;
        try
        {
            // FileShare.None is a share-mode lock on Windows and flock(LOCK_EX) on Unix: both end with the process.
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not FileNotFoundException and not DirectoryNotFoundException)
        {
            throw new RunFolderBusyException(directory, ReadHolder(path));
        }

        try
        {
            stream.SetLength(0);
            stream.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}\n")));
            stream.Flush();
        }
        catch
        {
            stream.Dispose();
            throw;
        }

        return new RunFolderLock(stream, directory);
    }

    public void Dispose() => stream.Dispose();

    // On Unix the holder's flock stops .NET from opening the file, so it is read through libc, which takes no lock.
    // On Windows the share mode forbids reading it at all: the holder stays unnamed there.
    private static int? ReadHolder(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            return null;
        }

        var bytes = LibC.ReadPrefix(path, 32);
        return bytes is not null
            && int.TryParse(Encoding.ASCII.GetString(bytes).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)
            ? pid
            : null;
    }
}
