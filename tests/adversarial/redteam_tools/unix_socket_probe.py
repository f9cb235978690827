"""Does the sandbox stop a kernel from reaching Unix sockets outside its folders? (It does not.)

    .venv/bin/python tests/adversarial/redteam_tools/unix_socket_probe.py

Listens on a Unix socket in a folder the sandboxed child may not read or write, then starts a child
that applies the course's own layers (limits, network namespace, Landlock with only a private
folder writable) and tries: writing next to the socket (refused), reading the parent's
/proc/<pid>/net/unix (where the judge's sockets are listed) and connecting to the socket (both
succeed). This is what lets a leftover process jam other students' judge sockets and read their
kernels' IOPub (tests/adversarial/redteam.toml: daemon-snoops-later-kernels).
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading

CHILD = r'''
import json, os, socket, sys
from classgrader.grade import sandbox
outside, inside = sys.argv[1], sys.argv[2]
report = {}
sandbox.set_limits(sandbox.Sandbox())
report["network"] = sandbox.leave_network()
report["landlock_abi"] = sandbox.apply_landlock(sandbox.readable_roots(), [inside])
try:
    open(os.path.join(os.path.dirname(outside), "written.txt"), "w").close()
    report["write_next_to_socket"] = "ALLOWED"
except OSError as err:
    report["write_next_to_socket"] = f"refused ({err.strerror})"
try:
    table = open(f"/proc/{os.getppid()}/net/unix").read()
    report["parent_sockets_listed"] = outside in table
except OSError as err:
    report["parent_sockets_listed"] = f"refused ({err.strerror})"
try:
    s = socket.socket(socket.AF_UNIX)
    s.connect(outside)
    s.sendall(b"hello from the sandbox")
    report["connect_outside"] = "ALLOWED"
except OSError as err:
    report["connect_outside"] = f"refused ({err.strerror})"
print(json.dumps(report))
'''


def main() -> None:
    with tempfile.TemporaryDirectory() as outside_dir, tempfile.TemporaryDirectory() as inside_dir:
        path = os.path.join(outside_dir, "judge-probe.sock")
        server = socket.socket(socket.AF_UNIX)
        server.bind(path)
        server.listen(1)
        server.settimeout(20)
        received = []

        def accept():
            try:
                conn, _ = server.accept()
                received.append(conn.recv(100).decode())
            except OSError as err:
                received.append(f"nothing ({err})")

        thread = threading.Thread(target=accept)
        thread.start()
        done = subprocess.run([sys.executable, "-c", CHILD, path, inside_dir], capture_output=True,
                              text=True, timeout=60)
        thread.join()
        server.close()
        report = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else {"error": done.stderr}
        report["listener_received"] = received[0] if received else "nothing"
        print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
