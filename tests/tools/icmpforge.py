#!/usr/bin/python3
"""What a compromised sandbox (root inside it) sends to abuse conntrack, IP options and the host's ICMP.

Run inside a netns sandbox's namespace; or in the host namespace with --tap TAP MAC GWMAC SRC4 SRC6, which writes
the frames into a tap sandbox's TAP exactly as its guest would (source MAC MAC, to GWMAC, from its own addresses).

usage: icmpforge.py [--tap TAP MAC GWMAC SRC4 SRC6] KIND ARGS...
  error DST TYPE CODE MTU INNER_SRC INNER_DST SPORT DPORT [DATA]
                          an ICMP (or, for IPv6 addresses, ICMPv6) error about a TCP packet INNER_SRC:SPORT ->
                          INNER_DST:DPORT; MTU is the next-hop MTU (type 3 code 4) or the ICMPv6 packet-too-big MTU
  lsrr HOP DST DPORT      a TCP SYN to HOP carrying a loose source route on to DST
  ssrr HOP DST DPORT      the same with a strict source route
  rr DST DPORT            a TCP SYN with a record-route option
  rh HOP DST DPORT        an IPv6 TCP SYN to HOP with a routing header on to DST
  ttl1 DST PROTO DPORT [SECONDS]
                          one packet (tcp, udp or icmp) with TTL / hop limit 1, three times; prints what came back
                          within SECONDS (default 1): "icmp TYPE CODE from SRC" per answer, or "none"
  hold HOST PORT SPORT    (netns only) a TCP connection from source port SPORT that sends a byte every 200 ms;
                          prints "ready" once connected, "broken" if it breaks, and runs until killed
  batch                   reads one command per line from stdin and answers each on a line of its own
Every KIND but ttl1 and hold sends its packet 5 times and prints "sent".
"""
import fcntl
import os
import select
import socket
import struct
import sys
import time

from scapy.all import (ARP, ICMP, ICMPv6DestUnreach, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, ICMPv6PacketTooBig, ICMPv6TimeExceeded, IP, IPOption_LSRR,
                       IPOption_RR, IPOption_SSRR, IPv6, IPv6ExtHdrRouting, TCP, UDP, Ether, ICMPv6EchoRequest,
                       Raw, conf, send, sniff)

conf.verb = 0
args = sys.argv[1:]
tap = None
if args[0] == "--tap":
    tap = {"name": args[1], "mac": args[2], "gw": args[3], "src4": args[4], "src6": args[5]}
    args = args[6:]
kind, args = args[0], args[1:]



def v6(address):
    return ":" in address


def ip(dst, **kw):
    """The L3 header; the source is the sandbox's own (the kernel's choice, or SRC for a TAP)."""
    if v6(dst):
        return IPv6(dst=dst, src=tap["src6"], **kw) if tap else IPv6(dst=dst, **kw)
    return IP(dst=dst, src=tap["src4"], **kw) if tap else IP(dst=dst, **kw)


def open_tap():
    # linux/if_tun.h: TUNSETIFF = _IOW('T', 202, int); IFF_TAP 0x0002, IFF_NO_PI 0x1000. The TAP is persistent and
    # not multi-queue, so this attaches to it as the VMM would.
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, 0x400454CA, struct.pack("16sH", tap["name"].encode(), 0x0002 | 0x1000))
    return fd


def emit(packet, count=5):
    if tap:
        fd = open_tap()
        frame = bytes(Ether(src=tap["mac"], dst=tap["gw"]) / packet)
        for _ in range(count):
            os.write(fd, frame)
        os.close(fd)
    else:
        send(packet, count=count)


def tcp_syn(dport):
    return TCP(sport=41000, dport=int(dport), flags="S", seq=1000)


def answer_neighbour(fd, frame):
    """A guest answers ARP and neighbour solicitations for its own address, or the host could not answer it."""
    if frame.haslayer(ARP) and frame[ARP].op == 1 and frame[ARP].pdst == tap["src4"]:
        os.write(fd, bytes(Ether(src=tap["mac"], dst=frame.src) / ARP(op=2, hwsrc=tap["mac"], psrc=tap["src4"], hwdst=frame.src, pdst=frame[ARP].psrc)))
    elif frame.haslayer(ICMPv6ND_NS) and frame[ICMPv6ND_NS].tgt == tap["src6"]:
        os.write(fd, bytes(Ether(src=tap["mac"], dst=frame.src) / IPv6(src=tap["src6"], dst=frame[IPv6].src)
                           / ICMPv6ND_NA(tgt=tap["src6"], R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=tap["mac"])))


def answers_to(packet, seconds=2.0):
    """Sends the packet three times and returns the ICMP errors that came back to the sandbox."""
    seen = []

    def note(p):
        if p.haslayer(ICMP) and p[ICMP].type in (3, 5, 11, 12) and p.haslayer(IP):
            seen.append(f"icmp {p[ICMP].type} {p[ICMP].code} from {p[IP].src}")
        for layer in (ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6TimeExceeded):
            if p.haslayer(layer) and p.haslayer(IPv6):
                seen.append(f"icmp {p[layer].type} {p[layer].code} from {p[IPv6].src}")

    if tap:
        fd = open_tap()
        frame = bytes(Ether(src=tap["mac"], dst=tap["gw"]) / packet)
        for _ in range(3):
            os.write(fd, frame)
        end = time.time() + seconds
        while time.time() < end:
            ready, _, _ = select.select([fd], [], [], max(0.0, end - time.time()))
            if ready:
                frame = Ether(os.read(fd, 65536))
                answer_neighbour(fd, frame)
                note(frame)
        os.close(fd)
    else:
        sniff(iface="eth0", timeout=seconds, prn=note, store=False, started_callback=lambda: send(packet, count=3))
    return seen


def run(kind, args):
    """One command; returns what it prints."""
    if kind == "error":
        dst, icmp_type, code, mtu, inner_src, inner_dst, sport, dport = args[:8]
        data = (args[8] if len(args) > 8 else "").encode()
        inner_l3 = IPv6(src=inner_src, dst=inner_dst) if v6(inner_src) else IP(src=inner_src, dst=inner_dst)
        inner = inner_l3 / TCP(sport=int(sport), dport=int(dport), flags="A", seq=12345) / Raw(data)
        if v6(dst):
            outer = ICMPv6PacketTooBig(mtu=int(mtu)) if icmp_type == "2" else ICMPv6DestUnreach(code=int(code))
        else:
            outer = ICMP(type=int(icmp_type), code=int(code), nexthopmtu=int(mtu)) if icmp_type == "3" else ICMP(type=int(icmp_type), code=int(code))
        emit(ip(dst) / outer / inner)
    elif kind in ("lsrr", "ssrr"):
        hop, dst, dport = args
        option = IPOption_LSRR if kind == "lsrr" else IPOption_SSRR
        emit(ip(hop, options=[option(routers=[dst])]) / tcp_syn(dport))
    elif kind == "rr":
        dst, dport = args
        emit(ip(dst, options=[IPOption_RR(routers=["0.0.0.0"] * 4)]) / tcp_syn(dport))
    elif kind == "rh":
        hop, dst, dport = args
        emit(ip(hop) / IPv6ExtHdrRouting(addresses=[dst]) / tcp_syn(dport))
    elif kind == "ttl1":
        dst, proto, dport = args[:3]
        seconds = float(args[3]) if len(args) > 3 else 1.0
        l4 = {"tcp": lambda: tcp_syn(dport), "udp": lambda: UDP(sport=41000, dport=int(dport)) / b"probe",
              "icmp": lambda: ICMPv6EchoRequest() if v6(dst) else ICMP()}[proto]()
        packet = ip(dst, hlim=1) / l4 if v6(dst) else ip(dst, ttl=1) / l4
        return "\n".join(sorted(set(answers_to(packet, seconds)))) or "none"
    elif kind == "hold":
        host, port, sport = args
        s = socket.socket(socket.AF_INET6 if v6(host) else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("::" if v6(host) else "0.0.0.0", int(sport)))
        s.settimeout(3)
        s.connect((host, int(port)))
        print("ready", flush=True)
        while True:
            try:
                s.sendall(b"x")
            except OSError:
                print("broken", flush=True)
                sys.exit(1)
            time.sleep(0.2)
    else:
        sys.exit(f"unknown kind {kind}")
    return "sent"


if kind == "batch":
    # One command per line on stdin, one answer line each ("KIND: ANSWER"), for one scapy start in all.
    for line in sys.stdin.read().splitlines():
        if line.strip():
            words = line.split()
            print(f"{words[0]}: " + run(words[0], words[1:]).replace("\n", "; "), flush=True)
else:
    print(run(kind, args))
