using Harness.Core.Contention;

namespace Harness.Energy.Contention;

/// <summary>Chooses the contention probe for this OS.</summary>
public static class ContentionProbes
{
    /// <summary>Linux /proc, macOS getloadavg, Windows GetSystemTimes; elsewhere nothing.</summary>
    public static IContentionProbe ForThisMachine() =>
        OperatingSystem.IsLinux() ? new LinuxContentionProbe()
        : OperatingSystem.IsMacOS() ? new MacContentionProbe()
        : OperatingSystem.IsWindows() ? new WindowsContentionProbe()
        : new UnavailableContentionProbe("no contention probe for this OS");
}
