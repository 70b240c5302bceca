using System.Runtime.InteropServices;

namespace ArcBox.Linux.SafeHandles;

/// <summary>A libnftables context (struct nft_ctx *). Its netlink socket belongs to the namespace it was created in.</summary>
internal sealed class SafeNftContextHandle : SafeHandle
{
    public SafeNftContextHandle()
        : base(IntPtr.Zero, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        Interop.Nftables.CtxFree(handle);
        return true;
    }
}
