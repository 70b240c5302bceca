using System.Runtime.InteropServices;
using ArcBox.Linux.SafeHandles;

internal static partial class Interop
{
    internal static partial class Nftables
    {
        internal const uint NFT_CTX_DEFAULT = 0;
        internal const uint NFT_CTX_OUTPUT_HANDLE = 1 << 3;
        internal const uint NFT_CTX_OUTPUT_JSON = 1 << 4;

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_new")]
        internal static partial SafeNftContextHandle CtxNew(uint flags);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_free")]
        internal static partial void CtxFree(IntPtr ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_buffer_output")]
        internal static partial int CtxBufferOutput(SafeNftContextHandle ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_buffer_error")]
        internal static partial int CtxBufferError(SafeNftContextHandle ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_get_output_buffer")]
        internal static partial IntPtr CtxGetOutputBuffer(SafeNftContextHandle ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_get_error_buffer")]
        internal static partial IntPtr CtxGetErrorBuffer(SafeNftContextHandle ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_output_get_flags")]
        internal static partial uint CtxOutputGetFlags(SafeNftContextHandle ctx);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_ctx_output_set_flags")]
        internal static partial void CtxOutputSetFlags(SafeNftContextHandle ctx, uint flags);

        [LibraryImport(Libraries.Nftables, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int RunCmdFromBuffer(SafeNftContextHandle ctx, string buffer);
    }
}
