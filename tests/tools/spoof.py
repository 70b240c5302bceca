#!/usr/bin/python3
"""Crafted packets an attacker inside a sandbox would send (run inside the sandbox namespace, as root).

usage: spoof.py KIND IFACE [ARGS...]
  ip-source SRC DST        UDP from a forged IPv4 source
  mac-source MAC DST       UDP from our address but a forged source MAC
  arp-claim IP             gratuitous ARP claiming IP with our MAC
  arp-forged-mac IP MAC    ARP reply for our IP with a forged MAC
  dhcp-offer               a DHCP server reply (udp 67 -> 68) to broadcast
  ipv6 DST                 IPv6 UDP to DST with our link-local source
  ra                       an IPv6 router advertisement
  na-claim IP6             a neighbour advertisement claiming IP6
  ipv6-source SRC DST      IPv6 UDP from a forged source
Each sends 5 packets and prints "sent".
"""
import sys
from scapy.all import (ARP, BOOTP, DHCP, ICMPv6ND_NA, ICMPv6ND_RA, ICMPv6NDOptDstLLAddr, IP, IPv6, UDP, Ether,
                       conf, get_if_addr, get_if_hwaddr, sendp)

conf.verb = 0
kind, iface = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
mac = get_if_hwaddr(iface)
gw_mac = "ff:ff:ff:ff:ff:ff"

if kind == "ip-source":
    pkt = Ether(src=mac, dst=gw_mac) / IP(src=args[0], dst=args[1]) / UDP(sport=40000, dport=9) / b"spoof"
elif kind == "mac-source":
    pkt = Ether(src=args[0], dst=gw_mac) / IP(src=get_if_addr(iface), dst=args[1]) / UDP(sport=40000, dport=9) / b"spoof"
elif kind == "arp-claim":
    pkt = Ether(src=mac, dst=gw_mac) / ARP(op=2, hwsrc=mac, psrc=args[0], hwdst=gw_mac, pdst=args[0])
elif kind == "arp-forged-mac":
    pkt = Ether(src=mac, dst=gw_mac) / ARP(op=2, hwsrc=args[1], psrc=args[0], hwdst=gw_mac, pdst=args[0])
elif kind == "dhcp-offer":
    pkt = (Ether(src=mac, dst=gw_mac) / IP(src=get_if_addr(iface), dst="255.255.255.255") / UDP(sport=67, dport=68)
           / BOOTP(op=2, yiaddr="10.0.0.99", chaddr=b"\x02" * 6) / DHCP(options=[("message-type", "offer"), "end"]))
elif kind == "ipv6":
    pkt = Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(dst=args[0]) / UDP(sport=40000, dport=9) / b"v6"
elif kind == "ra":
    pkt = Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src="fe80::bad", dst="ff02::1") / ICMPv6ND_RA()
elif kind == "na-claim":
    pkt = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=args[0], dst="ff02::1")
           / ICMPv6ND_NA(tgt=args[0], R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))
elif kind == "ipv6-source":
    pkt = Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=args[0], dst=args[1]) / UDP(sport=40000, dport=9) / b"v6"
else:
    sys.exit(f"unknown kind {kind}")

sendp(pkt, iface=iface, count=5)
print("sent")
