"""A seccomp user-space agent, for tests: accept <connections> connections on
the listener socket, each bringing a container process state (JSON) and a
seccomp notify fd; answer every notification with the errno given, and print
one line per event: 'state <json>' and 'notified <syscall nr> pid <pid>'.

usage: seccomp-agent.py <socket> <connections> <errno>
"""
import json
import os
import select
import socket
import struct
import sys
import time

SECCOMP_IOCTL_NOTIF_RECV = 0xC0502100  # _IOWR('!', 0, struct seccomp_notif), 80 bytes
SECCOMP_IOCTL_NOTIF_SEND = 0xC0182101  # _IOWR('!', 1, struct seccomp_notif_resp), 24 bytes

import fcntl

path, connections, errno = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
server.listen(connections)
listeners = []
for _ in range(connections):
    conn, _ = server.accept()
    data, fds, _, _ = socket.recv_fds(conn, 65536, 1)
    while True:
        more = conn.recv(65536)
        if not more:
            break
        data += more
    conn.close()
    print("state", json.dumps(json.loads(data)), f"fds={len(fds)}", flush=True)
    listeners.extend(fds)

deadline = time.monotonic() + 15
while listeners and time.monotonic() < deadline:
    ready, _, _ = select.select(listeners, [], [], 0.5)
    for fd in ready:
        request = bytearray(80)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, request, True)
        except OSError:
            # The filter's processes are gone: nothing more will come.
            listeners.remove(fd)
            continue
        ident, pid, _flags, nr = struct.unpack_from("<QIIi", request, 0)
        print("notified", nr, "pid", pid, flush=True)
        fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(struct.pack("<QqiI", ident, 0, -errno, 0)), True)
