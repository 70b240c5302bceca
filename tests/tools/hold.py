#!/usr/bin/python3
"""Holds one TCP connection and exchanges a byte every 100 ms for SECONDS; prints "ok N" or "broken AFTER_N".
usage: hold.py HOST PORT SECONDS    (the server is hold.py --serve PORT, an echo server)"""
import socket
import sys
import time

if sys.argv[1] == "--serve":
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("0.0.0.0", int(sys.argv[2])))
    srv.listen(16)
    print("ready", flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            while True:
                data = conn.recv(64)
                if not data:
                    break
                conn.sendall(data)
        except OSError:
            pass
        conn.close()

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
s = socket.create_connection((host, port), timeout=2)
s.settimeout(2)
n = 0
end = time.time() + seconds
try:
    while time.time() < end:
        s.sendall(b"x")
        if s.recv(1) != b"x":
            raise OSError("short")
        n += 1
        time.sleep(0.1)
    print(f"ok {n}", flush=True)
except OSError:
    print(f"broken {n}", flush=True)
