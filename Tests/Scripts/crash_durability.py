"""Crash durability: `kill -9` a real `hearth serve` ten times while clients send, then check
that every acked message is stored exactly once, every device syncs to the head, and SQLite's
integrity check passes.

Usage: crash_durability.py HEARTH_BINARY DATA_DIR PORT PASSWORD USER [USER ...]  (PORT 0: a free one)
The users must exist. Each user is one client that sends continuously and, like a real client,
resends whatever was not acked (same id) after each restart. Prints a summary, then OK.
"""

import json
import random
import signal
import socket
import sqlite3
import sys
import threading
import time
import urllib.request

import websocket
from serve import start

KILLS = 10


def post(base, path, body, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


class Client:
    def __init__(self, name, token, room, url):
        self.name, self.token, self.room, self.url = name, token, room, url
        self.counter = 0
        self.unacked = {}   # id -> body
        self.acked = {}     # id -> seq
        self.problems = []

    def frame(self, cid, body):
        return json.dumps({"type": "send", "id": cid, "room": self.room, "body": body})

    def handle(self, text):
        frame = json.loads(text)
        if frame.get("type") == "ack":
            cid, seq = frame["id"], frame["seq"]
            if cid in self.acked and self.acked[cid] != seq:
                self.problems.append(f"{cid} acked as {self.acked[cid]} and then as {seq}")
            self.acked[cid] = seq
            self.unacked.pop(cid, None)
        elif frame.get("type") == "error" and frame.get("id"):
            self.problems.append(f"{frame['id']} refused: {frame.get('code')}")

    def run(self, stop):
        """Sends until the server dies (or `stop` is set), reading acks as they come."""
        try:
            ws = websocket.create_connection(self.url, header=[f"Authorization: Bearer {self.token}"], timeout=5)
        except Exception:
            return
        try:
            for cid, body in list(self.unacked.items()):
                ws.send(self.frame(cid, body))
            ws.settimeout(0.02)
            while not stop.is_set():
                cid = f"{self.name}-{self.counter}"
                self.counter += 1
                body = f"{cid} says hello"
                self.unacked[cid] = body
                ws.send(self.frame(cid, body))
                try:
                    while True:
                        self.handle(ws.recv())
                except websocket.WebSocketTimeoutException:
                    pass
            # A clean stop: collect the acks still on their way.
            ws.settimeout(2)
            while self.unacked:
                self.handle(ws.recv())
        except Exception:
            return
        finally:
            try:
                ws.close()
            except Exception:
                pass

    def sync(self):
        """Every message of the user's rooms from the start, and the head the server reports."""
        ws = websocket.create_connection(self.url, header=[f"Authorization: Bearer {self.token}"], timeout=30)
        ws.send(json.dumps({"type": "sync", "after": 0}))
        messages = []
        while True:
            frame = json.loads(ws.recv())
            if frame["type"] == "message":
                messages.append(frame)
            elif frame["type"] == "synced":
                ws.close()
                return messages, frame["seq"]


# The clients send as fast as they can and resend everything unacked after each restart (up to a
# few hundred at once): the send limits, which this test is not about, must not refuse them.
LIMITS = {"HEARTH_MESSAGES_PER_MINUTE": "1000000", "HEARTH_FRAMES_PER_SECOND": "100000"}


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main(binary, data, port, password, *users):
    port = int(port) or free_port()
    base = f"http://127.0.0.1:{port}"
    url = f"ws://127.0.0.1:{port}/api/v1/ws"
    server, _ = start(binary, data, port, environment=LIMITS)
    tokens = [post(base, "/api/v1/login", {"username": u, "password": password, "deviceName": "crash test"})["token"]
              for u in users]
    room = post(base, "/api/v1/rooms", {"name": "Crash room", "members": list(users[1:])}, tokens[0])["room"]["id"]
    clients = [Client(u, t, room, url) for u, t in zip(users, tokens)]
    random.seed(20261129)

    in_flight = []
    for kill in range(KILLS + 1):
        stop = threading.Event()
        threads = [threading.Thread(target=c.run, args=(stop,)) for c in clients]
        for thread in threads:
            thread.start()
        time.sleep(random.uniform(0.4, 2.0))
        if kill < KILLS:
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            # Sent but not acked when the server died: each is resent after the restart.
            in_flight.append(sum(len(c.unacked) for c in clients))
            server, _ = start(binary, data, port, environment=LIMITS)
        else:
            stop.set()
            for thread in threads:
                thread.join(timeout=30)

    # Every device syncs to the head and sees each acked message once, with its acked seq.
    problems = [p for c in clients for p in c.problems]
    heads = set()
    acked = {cid: seq for c in clients for cid, seq in c.acked.items()}
    for client in clients:
        messages, head = client.sync()
        heads.add(head)
        seqs = [m["seq"] for m in messages]
        if seqs != sorted(set(seqs)):
            problems.append(f"{client.name}: sync not in strict seq order")
        bodies = {}
        for message in messages:
            cid = message["body"].split(" ")[0]
            bodies.setdefault(cid, []).append(message["seq"])
        for cid, seq in acked.items():
            if bodies.get(cid) != [seq]:
                problems.append(f"{client.name}: acked {cid}@{seq} synced as {bodies.get(cid)}")
        duplicates = [cid for cid, found in bodies.items() if len(found) > 1]
        if duplicates:
            problems.append(f"{client.name}: stored twice: {duplicates[:5]}")
        if messages and head < max(seqs):
            problems.append(f"{client.name}: synced head {head} below {max(seqs)}")
    if len(heads) != 1:
        problems.append(f"devices report different heads: {heads}")
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=30)
    integrity = sqlite3.connect(f"{data}/hearth.sqlite").execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        problems.append(f"integrity_check: {integrity}")
    resent = sum(len(c.unacked) for c in clients)
    print(f"{KILLS} kill -9s with {in_flight} messages in flight, {len(clients)} clients, {len(acked)} messages "
          f"acked, {resent} left unacked at the end, head {max(heads)}, integrity_check {integrity}")
    for problem in problems[:20]:
        print("PROBLEM", problem)
    if problems:
        sys.exit(1)
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:])
