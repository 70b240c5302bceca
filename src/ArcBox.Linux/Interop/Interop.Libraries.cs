internal static partial class Interop
{
    internal static class Libraries
    {
        internal const string Libc = "libc";

        // Debian 12: package libnftables1 (nftables 1.0.6).
        internal const string Nftables = "libnftables.so.1";
    }
}
