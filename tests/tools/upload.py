#!/usr/bin/python3
"""Bulk TCP for path-MTU tests: the client sends BYTES in full-sized segments and waits for the server's count.

usage: upload.py --serve PORT       a dual-stack sink: reads to end of stream, answers "ok N"; prints "ready"
       upload.py HOST PORT BYTES    prints the server's answer, or "stalled after N" when no data moved for 10 s
"""
import socket
import sys
import threading

if sys.argv[1] == "--serve":
    srv = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    srv.bind(("::", int(sys.argv[2])))
    srv.listen(16)
    print("ready", flush=True)

    def serve(conn):
        n = 0
        while data := conn.recv(65536):
            n += len(data)
        conn.sendall(f"ok {n}\n".encode())
        conn.close()

    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()

host, port, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
s = socket.create_connection((host, port), timeout=10)
sent = 0
chunk = b"x" * 65536
try:
    while sent < total:
        sent += s.send(chunk[: min(len(chunk), total - sent)])
    s.shutdown(socket.SHUT_WR)
    print(s.recv(100).decode().strip())
except socket.timeout:
    print(f"stalled after {sent}")
