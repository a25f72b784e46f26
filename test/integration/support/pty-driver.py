"""A person at a terminal, for tests: run a command on a new pty (its
controlling terminal, 30 rows by 100 columns), type each line once the
previous output has settled, and print everything the terminal showed,
then "exit=<code>".

usage: pty-driver.py <line>... -- <command> [args...]
"""
import fcntl
import os
import select
import struct
import subprocess
import sys
import termios
import time

split = sys.argv.index("--")
lines, command = sys.argv[1:split], sys.argv[split + 1:]
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
child = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                         preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
os.close(slave)
seen = b""


def read_for(seconds):
    global seen
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk


read_for(3)
for line in lines:
    os.write(master, line.encode() + b"\r")
    read_for(2)
code = child.wait(timeout=20)
read_for(0.5)
sys.stdout.write(seen.decode(errors="replace").replace("\r\n", "\n"))
print(f"exit={code}")
