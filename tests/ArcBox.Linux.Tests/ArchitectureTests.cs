namespace ArcBox.Linux.Tests;

/// <summary>The interop assembly knows nothing of the compiler: nf_tables messages reach it as bytes.</summary>
public class ArchitectureTests
{
    [Fact]
    public void The_interop_assembly_references_neither_the_compiler_nor_the_policy_core()
    {
        var references = typeof(KernelException).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain("ArcBox.Netfilter", references);
        Assert.DoesNotContain("ArcBox.Policy", references);
        Assert.DoesNotContain(references, r => r.StartsWith("ArcBox.", StringComparison.Ordinal));
    }
}
