using Harness.Core.Comparison;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tests.Suites;

namespace Harness.Tests.Comparison;

public class ReferenceTextTests
{
    [Fact]
    public void Documents_are_blank_line_separated_blocks_with_inner_newlines_kept()
    {
        var documents = ReferenceText.Split("a\nb\n\n\nc\r\n\r\nd  \n \n");
        Assert.Equal(["a\nb", "c", "d  "], documents.AsEnumerable());
    }

    [Fact]
    public void Loading_names_the_file_when_it_has_no_document()
    {
        var path = Path.Combine(Path.GetTempPath(), $"harness-ref-{Guid.NewGuid():N}.txt");
        File.WriteAllText(path, "\n\n  \n");
        try
        {
            var error = Assert.Throws<InputFileException>(() => ReferenceText.Load(path));
            Assert.Contains(path, error.Message, StringComparison.Ordinal);
            Assert.Contains("no document", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_shipped_reference_is_what_the_generator_writes_and_holds_no_evaluation_item()
    {
        var shipped = File.ReadAllText(Path.Combine(RepoPaths.Tasks(), ReferenceText.DefaultFileName));
        Assert.Equal(TaskWriter.ReferenceText(), shipped);

        var documents = ReferenceText.Split(shipped);
        Assert.Equal(TaskWriter.Generators().Length * TaskWriter.ReferenceDocumentsPerTask, documents.Length);
        foreach (var generator in TaskWriter.Generators())
        {
            foreach (var item in generator.GenerateEvaluation())
            {
                var prompt = PromptRenderer.Render(generator.Definition.Prompt, item).PlainText;
                Assert.DoesNotContain(documents, d => d == prompt + item.Target);
            }
        }
    }
}
