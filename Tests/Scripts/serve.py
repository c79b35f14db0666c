"""Starting a real `hearth serve` from a test script, for scripts that stop and restart it.

`start` runs it on 127.0.0.1 and returns once it prints where it listens: the process and its URL.
"""

import json
import os
import socket
import subprocess
import threading
import urllib.error
import urllib.request


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


def call(base, method, path, body=None, token=None, context=None):
    """A JSON request to `/api/v1` + `path` (with a bearer `token`, and an SSL `context` for a
    test certificate): the status and the decoded answer, errors included."""
    request = urllib.request.Request(
        base + "/api/v1" + path, method=method, data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30, context=context) as response:
            text = response.read()
            return response.status, json.loads(text) if text else {}
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
