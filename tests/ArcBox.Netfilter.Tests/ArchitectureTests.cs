using System.Reflection;

namespace ArcBox.Netfilter.Tests;

/// <summary>
/// The policy compiler is pure: it never references the kernel side. The other direction, ArcBox.Linux knowing
/// nothing of the compiler, is checked in tests/ArcBox.Linux.Tests/ArchitectureTests.cs.
/// </summary>
public class ArchitectureTests
{
    [Theory]
    [InlineData(typeof(ArcBox.Policy.BuiltinPolicies))]
    [InlineData(typeof(NetworkConfig))]
    public void Pure_assemblies_reference_no_arcbox_assembly_with_kernel_access(Type marker)
    {
        var references = marker.Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.DoesNotContain("ArcBox.Linux", references);
        Assert.DoesNotContain("ArcBox.Daemon", references);
        Assert.All(references.Where(r => r.StartsWith("ArcBox.", StringComparison.Ordinal)), r => Assert.True(r is "ArcBox.Policy", r));
    }

    [Theory]
    [InlineData(typeof(ArcBox.Policy.BuiltinPolicies))]
    [InlineData(typeof(NetworkConfig))]
    public void Pure_assemblies_declare_no_native_imports(Type marker)
    {
        var pinvokes = marker.Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Static | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
            .Where(m => (m.Attributes & MethodAttributes.PinvokeImpl) != 0)
            .Select(m => m.Name);
        Assert.Empty(pinvokes);
    }
}
