"""Capture the nf_tables batch that `nft -f` sends for a script, and replay it on a netlink socket of our own.

Replaying measures what the daemon's own batches cost (the kernel's work, commit included) without libnftables'
cache refresh, which fetches every chain and set before each transaction and grows with the table.
"""
import re
import socket
import struct
import subprocess
import time

NETLINK_NETFILTER = 12
NLM_F_ACK = 0x4
NLMSG_ERROR = 2
NFNL_MSG_BATCH_BEGIN, NFNL_MSG_BATCH_END = 0x10, 0x11


def split(data):
    """nlmsghdr-framed messages, each padded to 4 bytes."""
    out, offset = [], 0
    while offset + 16 <= len(data):
        length = struct.unpack_from("<I", data, offset)[0]
        if length < 16 or offset + length > len(data):
            raise ValueError(f"a message of {length} bytes at offset {offset} runs past the {len(data)} bytes")
        out.append(bytes(data[offset:offset + length]))
        offset += (length + 3) & ~3
    return out


def capture(script_path, trace_path):
    """Runs `nft -f script_path` under strace (so the change is applied) and returns the batch it sent."""
    subprocess.run(["strace", "-qq", "-e", "trace=sendmsg", "-e", "write=all", "-o", trace_path,
                    "nft", "-f", script_path], check=True)
    data = bytearray()
    for line in open(trace_path):
        # strace's dump: " | 00000  14 00 00 00 10 00 ...  ascii |", 16 bytes a line at columns 10-58.
        if re.match(r"^ \| [0-9a-f]{5}  ", line):
            data += bytes.fromhex(line[10:59].replace(" ", ""))
    msgs = split(data)
    kinds = [struct.unpack_from("<H", m, 4)[0] for m in msgs]
    if NFNL_MSG_BATCH_BEGIN not in kinds or NFNL_MSG_BATCH_END not in kinds:
        raise ValueError(f"{script_path}: no complete batch among {len(msgs)} messages sent")
    begin = kinds.index(NFNL_MSG_BATCH_BEGIN)
    end = kinds.index(NFNL_MSG_BATCH_END, begin)
    if NFNL_MSG_BATCH_BEGIN in kinds[end:]:
        raise ValueError(f"{script_path}: nft sent more than one batch")
    return msgs[begin:end + 1]


class Conn:
    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_NETFILTER)
        self.sock.bind((0, 0))
        self.sock.setsockopt(socket.SOL_SOCKET, 33, 8 << 20)  # SO_RCVBUFFORCE
        self.sock.setsockopt(socket.SOL_SOCKET, 32, 8 << 20)  # SO_SNDBUFFORCE
        self.sock.settimeout(120)
        self.seq = int(time.time())

    def apply(self, batch):
        """Sends one batch and waits for the ack of its last message, which the kernel queues after the commit.
        Returns the wall time in seconds."""
        msgs = []
        for i, m in enumerate(batch):
            m = bytearray(m)
            self.seq += 1
            struct.pack_into("<I", m, 8, self.seq)
            if i == len(batch) - 2:
                struct.pack_into("<H", m, 6, struct.unpack_from("<H", m, 6)[0] | NLM_F_ACK)
                want = self.seq
            msgs.append(bytes(m) + b"\0" * (-len(m) % 4))
        data = b"".join(msgs)
        start = time.perf_counter()
        self.sock.send(data)
        while True:
            for reply in split(self.sock.recv(1 << 20)):
                kind = struct.unpack_from("<H", reply, 4)[0]
                if kind != NLMSG_ERROR:
                    continue
                err = -struct.unpack_from("<i", reply, 16)[0]
                seq = struct.unpack_from("<I", reply, 28)[0]
                if err:
                    kind_failed = struct.unpack_from("<H", reply, 24)[0]
                    raise OSError(err, f"batch refused at message type 0x{kind_failed:x}")
                if seq == want:
                    return time.perf_counter() - start
