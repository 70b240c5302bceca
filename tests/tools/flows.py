#!/usr/bin/python3
"""Sends one packet per line of stdin (run inside a namespace, as root), then prints "sent N".

Each line: MODE IFACE DSTMAC SRC DST PROTO SPORT DPORT ID TTL
  MODE l2 sends the frame on IFACE to DSTMAC (a packet socket: no routing, no output hook);
  MODE l3 sends through a raw IP socket (routing and the output hook apply; IFACE and DSTMAC are ignored).
  PROTO is tcp (a SYN), udp or icmp (an echo request, ICMPv6 for IPv6 addresses); ID goes into the IPv4
  identification or the IPv6 flow label, so that a filter can record which packets it saw.
"""
import socket
import sys
from scapy.all import ICMP, IP, TCP, UDP, Ether, ICMPv6EchoRequest, IPv6, conf

conf.verb = 0
l2 = {}
raw = {}
count = 0
for line in sys.stdin:
    if not line.strip():
        continue
    mode, iface, mac, src, dst, proto, sport, dport, ident, ttl = line.split()
    sport, dport, ident, ttl = int(sport), int(dport), int(ident), int(ttl)
    v6 = ":" in dst
    ip = IPv6(src=src, dst=dst, fl=ident, hlim=ttl) if v6 else IP(src=src, dst=dst, id=ident, ttl=ttl)
    if proto == "tcp":
        l4 = TCP(sport=sport, dport=dport, flags="S")
    elif proto == "udp":
        l4 = UDP(sport=sport, dport=dport) / b"flow"
    else:
        l4 = ICMPv6EchoRequest(id=ident & 0xFFFF) if v6 else ICMP(type=8, id=ident & 0xFFFF)
    pkt = ip / l4
    if mode == "l2":
        if iface not in l2:
            l2[iface] = conf.L2socket(iface=iface)
        l2[iface].send(Ether(dst=mac) / pkt)
    else:
        family = socket.AF_INET6 if v6 else socket.AF_INET
        if family not in raw:
            raw[family] = socket.socket(family, socket.SOCK_RAW, socket.IPPROTO_RAW)
            if v6:
                raw[family].setsockopt(socket.IPPROTO_IPV6, 36, 1)  # IPV6_HDRINCL
        try:
            raw[family].sendto(bytes(pkt), (dst, 0))
        except PermissionError:
            pass  # the output hook dropped it: EPERM is that verdict, not a failure to send
    count += 1
print(f"sent {count}")
