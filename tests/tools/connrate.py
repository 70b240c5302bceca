#!/usr/bin/python3
"""Opens and closes TCP connections to HOST PORT for SECONDS, reading the server's answer; prints connections per second.
Each connection ends with a reset (SO_LINGER 0), so that TIME_WAIT states do not pile up and skew the rate."""
import socket
import struct
import sys
import time

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
n = 0
end = time.time() + seconds
start = time.time()
while time.time() < end:
    s = socket.create_connection((host, port), timeout=2)
    s.recv(256)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    n += 1
print(f"{n / (time.time() - start):.1f}")
