using System.Diagnostics;
using System.Globalization;

namespace Harness.Backends.OpenAi;

/// <summary>
/// The process on this machine that listens on a loopback endpoint's port: a local server's CPU time is the model's
/// work, so the contention probe must not count it as other processes' load. Linux only (<c>/proc/net/tcp*</c> gives the
/// listening socket's inode, <c>/proc/&lt;pid&gt;/fd</c> the process holding it); elsewhere, or when the socket belongs
/// to another user's process, there is no answer and the server's CPU counts as other processes, as the report says.
/// </summary>
internal static class LocalServerProcess
{
    private const string Listen = "0A";

    /// <summary>The process listening on TCP <paramref name="port"/>, or null when it cannot be told.</summary>
    public static Process? Find(int port, string procRoot = "/proc")
    {
        if (!OperatingSystem.IsLinux())
            return null;

        var inodes = ListeningInodes(port, procRoot);
        if (inodes.Count == 0)
            return null;

        foreach (var processDirectory in SafeEnumerate(() => Directory.EnumerateDirectories(procRoot)))
        {
            if (!int.TryParse(Path.GetFileName(processDirectory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                continue;
            foreach (var descriptor in SafeEnumerate(() => Directory.EnumerateFileSystemEntries(Path.Combine(processDirectory, "fd"))))
            {
                string? target;
                try
                {
                    target = new FileInfo(descriptor).LinkTarget;
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    continue;
                }

                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal) && inodes.Contains(target[8..^1]))
                {
                    try
                    {
                        return Process.GetProcessById(pid);
                    }
                    catch (ArgumentException)
                    {
                        return null; // it ended between the two reads
                    }
                }
            }
        }

        return null;
    }

    // Lines of /proc/net/tcp{,6}: "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...",
    // local_address as hex "0100007F:1F90".
    private static HashSet<string> ListeningInodes(int port, string procRoot)
    {
        var hexPort = port.ToString("X4", CultureInfo.InvariantCulture);
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "tcp", "tcp6" })
        {
            string[] lines;
            try
            {
                lines = File.ReadAllLines(Path.Combine(procRoot, "net", table));
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                continue;
            }

            foreach (var line in lines.Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == Listen && fields[1].EndsWith(":" + hexPort, StringComparison.Ordinal) && fields[9] != "0")
                    inodes.Add(fields[9]);
            }
        }

        return inodes;
    }

    private static IEnumerable<string> SafeEnumerate(Func<IEnumerable<string>> enumerate)
    {
        try
        {
            return [.. enumerate()];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
