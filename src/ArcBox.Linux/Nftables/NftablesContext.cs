using System.Runtime.InteropServices;
using ArcBox.Linux.Namespaces;
using ArcBox.Linux.SafeHandles;

namespace ArcBox.Linux.Nftables;

/// <summary>
/// A long-lived libnftables context for one network namespace. Warm, it adds a sandbox in about 1.4 ms where a
/// fresh context or `nft -f` takes 20-29 ms. Each <see cref="Run"/> is one transaction: all of it or nothing.
/// Calls are serialised: a context is not thread-safe.
/// </summary>
public sealed class NftablesContext : IDisposable
{
    private readonly SafeNftContextHandle ctx;
    private readonly Lock gate = new();

    private NftablesContext(SafeNftContextHandle ctx)
    {
        this.ctx = ctx;
        Interop.Nftables.CtxBufferOutput(ctx);
        Interop.Nftables.CtxBufferError(ctx);
    }

    /// <summary>A context in the calling thread's namespace.</summary>
    public static NftablesContext Open() => new(New());

    /// <summary>A context whose netlink socket lives in <paramref name="ns"/> (created there by the namespace thread).</summary>
    public static NftablesContext OpenIn(NetworkNamespace ns) => new(ns.Run(New, "create nftables context"));

    /// <summary>Runs <paramref name="script"/>; throws <see cref="NftablesException"/> with nft's own message on failure.</summary>
    public void Run(string script)
    {
        lock (gate)
        {
            var rc = Interop.Nftables.RunCmdFromBuffer(ctx, script);
            var error = ReadBuffer(Interop.Nftables.CtxGetErrorBuffer(ctx));
            ReadBuffer(Interop.Nftables.CtxGetOutputBuffer(ctx));
            if (rc != 0)
            {
                throw new NftablesException("nft transaction", error.Length > 0 ? error : $"failed with code {rc}");
            }
        }
    }

    /// <summary>Runs a listing command ("list table inet arcbox-ab") and returns its output (JSON when asked).</summary>
    public string List(string command, bool json = false)
    {
        lock (gate)
        {
            var flags = Interop.Nftables.CtxOutputGetFlags(ctx);
            Interop.Nftables.CtxOutputSetFlags(ctx, json ? flags | Interop.Nftables.NFT_CTX_OUTPUT_JSON : flags & ~Interop.Nftables.NFT_CTX_OUTPUT_JSON);
            try
            {
                var rc = Interop.Nftables.RunCmdFromBuffer(ctx, command);
                var output = ReadBuffer(Interop.Nftables.CtxGetOutputBuffer(ctx));
                var error = ReadBuffer(Interop.Nftables.CtxGetErrorBuffer(ctx));
                if (rc != 0)
                {
                    throw new NftablesException(command, error.Length > 0 ? error : $"failed with code {rc}");
                }

                return output;
            }
            finally
            {
                Interop.Nftables.CtxOutputSetFlags(ctx, flags);
            }
        }
    }

    public void Dispose() => ctx.Dispose();

    private static SafeNftContextHandle New()
    {
        var handle = Interop.Nftables.CtxNew(Interop.Nftables.NFT_CTX_DEFAULT);
        if (handle.IsInvalid)
        {
            throw new KernelException("create nftables context", Errno.ENOMEM);
        }

        return handle;
    }

    private static string ReadBuffer(IntPtr p) => p == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(p) ?? "";
}
