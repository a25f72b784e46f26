"""The engine's side of --console-socket, for tests: accept one connection on
the socket, receive the pty master (SCM_RIGHTS), type a line into it and
print what the terminal shows until a marker appears.

usage: console-receiver.py <socket> <line to type> <marker to wait for>
"""
import os
import select
import socket
import sys
import time

path, line, marker = sys.argv[1], sys.argv[2], sys.argv[3]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(1)
print("listening", flush=True)
conn, _ = server.accept()
name, fds, _, _ = socket.recv_fds(conn, 1024, 1)
print(f"name={name.decode()} fds={len(fds)}", flush=True)
master = fds[0]
os.write(master, line.encode() + b"\n")
seen = b""
deadline = time.monotonic() + 20
while marker.encode() not in seen and time.monotonic() < deadline:
    ready, _, _ = select.select([master], [], [], 0.5)
    if ready:
        try:
            seen += os.read(master, 4096)
        except OSError:
            break
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(0 if marker.encode() in seen else 1)
