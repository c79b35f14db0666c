"""Starting a real `hearth serve` from a test script, for scripts that stop and restart it.

`start` runs it on 127.0.0.1 and returns once it prints where it listens: the process and its URL.
"""

import os
import socket
import subprocess
import threading


def start(binary, data, port=0, log_level="error", environment=None, log=None, extra=()):
    """`hearth serve` on DATA at PORT (0: any free one), with extra `environment` variables and
    `extra` flags; its log goes to the file `log` (else nowhere). Returns (process, url)."""
    process = subprocess.Popen(
        [binary, "serve", "--data", data, "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level,
         *extra],
        stdout=subprocess.PIPE, stderr=open(log, "a") if log else subprocess.DEVNULL, text=True,
        env=dict(os.environ, **(environment or {})))
    for line in process.stdout:
        if line.startswith("Hearth is running at "):
            # Keep reading, so the server never blocks on a full pipe.
            threading.Thread(target=lambda: [None for _ in process.stdout], daemon=True).start()
            return process, line.split()[4]
    raise RuntimeError("hearth serve did not start")


def free_port():
    """A port on 127.0.0.1 nothing listens on now (for a server restarted on the same port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
