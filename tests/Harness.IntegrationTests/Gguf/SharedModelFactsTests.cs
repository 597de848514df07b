using Harness.Core.Gguf;

namespace Harness.IntegrationTests.Gguf;

[Trait("Category", "Model")]
public sealed class SharedModelFactsTests
{
    [RequiresSharedModelFact(SharedModels.Stories260K)]
    public void Stories260K_facts_describe_a_tiny_llama()
    {
        var path = SharedModels.PathOf(SharedModels.Stories260K);

        var facts = GgufFacts.Read(path);

        Assert.Equal("llama", facts.Architecture);
        Assert.InRange(facts.ParameterCount, 200_000, 320_000);
        Assert.Equal(new FileInfo(path).Length, facts.FileSizeBytes);
        Assert.True(facts.VocabularySize > 0);
        Assert.True(facts.ContextLength > 0);
        Assert.True(facts.BlockCount > 0);
        Assert.True(facts.EmbeddingLength > 0);
    }
}
