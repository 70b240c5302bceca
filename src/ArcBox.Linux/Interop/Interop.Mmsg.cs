using System.Runtime.InteropServices;

internal static partial class Interop
{
    internal static partial class Sys
    {
        /// <summary>recvmmsg: return once one datagram is in, with as many more as are already queued.</summary>
        internal const int MSG_WAITFORONE = 0x10000;

        /// <summary>In msg_flags after a receive: the datagram was larger than the buffer and was cut.</summary>
        internal const int MSG_TRUNC = 0x20;

        /// <summary>struct iovec.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct IoVec
        {
            public byte* Base;
            public nuint Length;
        }

        /// <summary>struct msghdr (LP64: 56 bytes, padding after msg_namelen and msg_flags).</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal unsafe struct MsgHdr
        {
            public byte* Name;
            public uint NameLength;
            public IoVec* Iov;
            public nuint IovLength;
            public void* Control;
            public nuint ControlLength;
            public int Flags;
        }

        /// <summary>struct mmsghdr: a msghdr and the bytes received or sent for it.</summary>
        [StructLayout(LayoutKind.Sequential)]
        internal struct MMsgHdr
        {
            public MsgHdr Header;
            public uint Length;
        }

        [LibraryImport(Libraries.Libc, EntryPoint = "recvmmsg", SetLastError = true)]
        internal static unsafe partial int RecvMmsg(SafeHandle fd, MMsgHdr* messages, uint count, int flags, void* timeout);

        [LibraryImport(Libraries.Libc, EntryPoint = "sendmmsg", SetLastError = true)]
        internal static unsafe partial int SendMmsg(SafeHandle fd, MMsgHdr* messages, uint count, int flags);
    }
}
