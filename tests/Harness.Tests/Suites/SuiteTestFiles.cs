using System.Text;

namespace Harness.Tests.Suites;

/// <summary>A throw-away suite folder under the temp directory, named like the suite so the name check passes.</summary>
internal sealed class SuiteTestFiles : IDisposable
{
    public const string ValidYaml = """
        name: demo
        version: 1
        kind: fixed
        description: "a demo"
        request: generate
        prompt:
          template: "{{a}}+{{b}}="
        generation:
          max_tokens: 4
        scorers:
          - name: numeric
            args: { tolerance: 0 }
        requirement:
          min_pass_rate: 0.9
          confidence: 0.95
        """;

    public const string ValidItems = """
        {"id":"1","a":1,"b":2,"target":"3"}
        {"id":"2","a":2,"b":2,"target":"4"}
        """;

    private readonly string root = Path.Combine(Path.GetTempPath(), "harness-suites-" + Guid.NewGuid().ToString("N"));

    public SuiteTestFiles() => Directory.CreateDirectory(root);

    /// <summary>The tasks folder that holds the suite folders.</summary>
    public string TasksDirectory => root;

    public string SuiteDirectory(string name = "demo") => Path.Combine(root, name);

    public string YamlPath(string name = "demo") => Path.Combine(SuiteDirectory(name), "suite.yaml");

    public string ItemsPath(string name = "demo") => Path.Combine(SuiteDirectory(name), "items.jsonl");

    /// <summary>Writes the two files with LF endings; null leaves a file out.</summary>
    public string Write(string? yaml = ValidYaml, string? items = ValidItems, string name = "demo")
    {
        Directory.CreateDirectory(SuiteDirectory(name));
        if (yaml is not null)
        {
            File.WriteAllText(YamlPath(name), yaml.ReplaceLineEndings("\n") + "\n", new UTF8Encoding(false));
        }
        if (items is not null)
        {
            File.WriteAllText(ItemsPath(name), items.ReplaceLineEndings("\n") + "\n", new UTF8Encoding(false));
        }
        return SuiteDirectory(name);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; a failing Dispose would hide the real test result.
        }
    }
}

/// <summary>Finds the committed repository content next to the test binaries.</summary>
internal static class RepoPaths
{
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Harness.sln above {AppContext.BaseDirectory}");
    }

    public static string Tasks() => Path.Combine(Root(), "tasks");

    /// <summary>Copies shipped suites into <c>root/tasks/&lt;suite&gt;</c>, so a test may change them.</summary>
    public static void CopySuites(string root, params string[] suites)
    {
        foreach (var suite in suites)
        {
            Directory.CreateDirectory(Path.Combine(root, "tasks", suite));
            foreach (var file in Directory.GetFiles(Path.Combine(Tasks(), suite)))
            {
                File.Copy(file, Path.Combine(root, "tasks", suite, Path.GetFileName(file)));
            }
        }
    }
}

/// <summary>Runs a block under another current culture and restores it.</summary>
internal static class Culture
{
    public static T Under<T>(string name, Func<T> action)
    {
        var (culture, ui) = (System.Globalization.CultureInfo.CurrentCulture, System.Globalization.CultureInfo.CurrentUICulture);
        System.Globalization.CultureInfo.CurrentCulture = System.Globalization.CultureInfo.GetCultureInfo(name);
        System.Globalization.CultureInfo.CurrentUICulture = System.Globalization.CultureInfo.GetCultureInfo(name);
        try
        {
            return action();
        }
        finally
        {
            (System.Globalization.CultureInfo.CurrentCulture, System.Globalization.CultureInfo.CurrentUICulture) = (culture, ui);
        }
    }
}
