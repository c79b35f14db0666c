"""Outgoing webhooks against a receiver written here with the standard library, which checks
every delivery's signature with its own HMAC (Python's `hmac`, not Hearth's code).

A private address (this receiver on 127.0.0.1) is refused until HEARTH_WEBHOOK_ALLOW_PRIVATE
allows it; then: every message reaches the "all" hook and only `/` commands the "commands"
hook; a hook whose receiver fails twice gets the message on the third try; one that always
answers 500 is given up after HEARTH_OUTGOING_WEBHOOK_ATTEMPTS tries; a redirect is not followed;
a bot's message is not sent; the delivery log says all of it; and after a restart without the
allow-list, a delivery to the same hook is refused (the address is checked again at delivery).

Usage: outgoing_webhooks.py HEARTH_BINARY DATA_DIR PASSWORD
DATA_DIR holds mum and dad with PASSWORD. Prints OK.
"""

import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import websocket
from serve import call, start

ATTEMPTS = 3
received = []  # (path, headers, body, answer status)
lock = threading.Lock()
tries = {}  # (path, seq) -> count


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        seq = json.loads(body)["message"]["seq"]
        with lock:
            count = tries[(self.path, seq)] = tries.get((self.path, seq), 0) + 1
        if self.path == "/flaky" and count <= 2 or self.path == "/down":
            status = 500
        elif self.path == "/moved":
            status = 302
        else:
            status = 200
        with lock:
            received.append((self.path, dict(self.headers), body, status))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/elsewhere")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok" if status != 500 else b"no")

    def log_message(self, *args):
        pass


def verify(secret, headers, body):
    """The signature as a receiver checks it: HMAC-SHA256 of TIMESTAMP.BODY with the secret."""
    timestamp = headers["X-Hearth-Timestamp"]
    assert abs(time.time() - int(timestamp)) < 300, timestamp
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["X-Hearth-Signature"]), (expected, headers["X-Hearth-Signature"])


def wait_for(what, check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def send(socket, room, body, id):
    socket.send(json.dumps({"type": "send", "id": id, "room": room, "body": body}))
    while True:
        frame = json.loads(socket.recv())
        if frame.get("type") == "ack" and frame.get("id") == id:
            return frame["seq"]


def main(binary, data, password):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{receiver.server_port}"
    quick = {"HEARTH_OUTGOING_WEBHOOK_ATTEMPTS": str(ATTEMPTS), "HEARTH_OUTGOING_WEBHOOK_RETRY_SECONDS": "1"}

    server, base = start(binary, data, environment=quick)
    try:
        mum = call(base, "POST", "/login", {"username": "mum", "password": password})[1]["token"]
        room = call(base, "POST", "/rooms", {"name": "Home", "members": ["dad"]}, mum)[1]["room"]["id"]
        status, body = call(base, "POST", f"/rooms/{room}/outgoing-webhooks",
                            {"name": "Lights", "url": target + "/all"}, mum)
        assert status == 400 and "private address" in body["error"]["message"], (status, body)
        print("refused:", body["error"]["message"])
    finally:
        server.terminate()
        server.wait()

    allowed = dict(quick, HEARTH_WEBHOOK_ALLOW_PRIVATE="127.0.0.1")
    server, base = start(binary, data, environment=allowed)
    try:
        mum = call(base, "POST", "/login", {"username": "mum", "password": password})[1]["token"]
        dad = call(base, "POST", "/login", {"username": "dad", "password": password})[1]["token"]
        hooks = {}
        for name, path, commands in [("all", "/all", False), ("commands", "/commands", True),
                                     ("flaky", "/flaky", False), ("down", "/down", False), ("moved", "/moved", False)]:
            status, body = call(base, "POST", f"/rooms/{room}/outgoing-webhooks",
                                {"name": name, "url": target + path, "commandsOnly": commands}, mum)
            assert status == 201 and body["secret"].startswith("whsec_"), (status, body)
            hooks[name] = (body["id"], body["secret"])
        # Dad is a member but not the group's admin: he may not see the hooks' addresses.
        assert call(base, "GET", f"/rooms/{room}/outgoing-webhooks", token=dad)[0] == 403

        socket = websocket.create_connection(base.replace("http", "ws") + "/api/v1/ws",
                                             header=[f"Authorization: Bearer {dad}"], timeout=20)
        hello = send(socket, room, "Dinner is ready", "m1")
        ping = send(socket, room, "/lights off kitchen", "m2")
        # A webhook's bot posting is not sent on (two programs could answer each other forever).
        made = call(base, "POST", f"/rooms/{room}/webhooks", {"name": "Doorbell"}, mum)[1]
        request = urllib.request.Request(made["url"].replace("localhost:8080", base.split("://")[1]),
                                         data=b"Ding dong", headers={"Content-Type": "text/plain"})
        bot_seq = json.loads(urllib.request.urlopen(request, timeout=10).read())["seq"]

        def got(path):
            with lock:
                return [(json.loads(b), h, b) for p, h, b, s in received if p == path and s == 200]

        all_hook = wait_for("both messages at /all", lambda: len(got("/all")) >= 2 and got("/all"))
        for payload, headers, raw in all_hook:
            verify(hooks["all"][1], headers, raw)
            assert headers["X-Hearth-Event"] == "message" and headers["Content-Type"] == "application/json"
        first = all_hook[0][0]
        assert first["event"] == "message" and first["room"] == {"id": room, "name": "Home", "kind": "group"}, first
        assert first["message"]["seq"] == hello and first["message"]["body"] == "Dinner is ready", first
        assert first["message"]["from"]["username"] == "dad" and first["text"] == "Dinner is ready", first
        assert first["webhook"] == {"id": hooks["all"][0], "name": "all"} and "command" not in first, first
        print("/all got", [p["message"]["body"] for p, _, _ in all_hook], "signed, checked with Python's hmac")

        commands = wait_for("the command at /commands", lambda: got("/commands"))
        verify(hooks["commands"][1], commands[0][1], commands[0][2])
        assert [p["message"]["seq"] for p, _, _ in commands] == [ping], commands
        assert commands[0][0]["command"] == {"name": "lights", "args": "off kitchen"}, commands[0][0]
        print("/commands got only", commands[0][0]["command"])

        # The flaky receiver answered 500 twice: the third try went through.
        flaky = wait_for("the flaky hook's third try", lambda: len(got("/flaky")) >= 2 and got("/flaky"), 60)
        for payload, headers, raw in flaky:
            verify(hooks["flaky"][1], headers, raw)
        log = call(base, "GET", f"/rooms/{room}/outgoing-webhooks/{hooks['flaky'][0]}/deliveries", token=mum)[1]
        done = {d["seq"]: d for d in log["deliveries"]}
        assert done[hello]["state"] == "delivered" and done[hello]["attempts"] == 3, done
        assert done[hello]["status"] == 200 and done[hello]["latencyMs"] is not None, done
        print("/flaky: 500, 500, then 200: delivered on try", done[hello]["attempts"])

        # The receiver that is down: given up after the documented number of tries.
        def given_up():
            log = call(base, "GET", f"/rooms/{room}/outgoing-webhooks/{hooks['down'][0]}/deliveries", token=mum)[1]
            return [d for d in log["deliveries"] if d["state"] == "failed"] if all(
                d["state"] == "failed" for d in log["deliveries"]) and len(log["deliveries"]) == 2 else None
        failed = wait_for("the down hook to be given up", given_up, 60)
        assert all(d["attempts"] == ATTEMPTS and d["status"] == 500 for d in failed), failed
        assert failed[0]["error"].startswith(f"Gave up after {ATTEMPTS} tries: Answered 500"), failed
        with lock:
            assert tries[("/down", hello)] == ATTEMPTS, tries
        print("/down:", failed[0]["error"])

        # The redirect is not followed: one request, no second one to where it pointed.
        log = wait_for("the redirect's log", lambda: [
            d for d in call(base, "GET", f"/rooms/{room}/outgoing-webhooks/{hooks['moved'][0]}/deliveries",
                            token=mum)[1]["deliveries"] if d["state"] == "failed"])
        assert log[0]["status"] == 302 and "redirects are not followed" in log[0]["error"], log
        with lock:
            assert not [r for r in received if r[0] == "/elsewhere"], received
        print("/moved:", log[0]["error"])

        # Nothing for the bot's message, anywhere.
        with lock:
            assert not [r for r in received if json.loads(r[2])["message"]["seq"] == bot_seq], received
        hooks_listed = call(base, "GET", f"/rooms/{room}/outgoing-webhooks", token=mum)[1]["webhooks"]
        assert {h["name"]: h["lastDelivery"]["state"] for h in hooks_listed}["all"] == "delivered", hooks_listed
        assert all("secret" not in h for h in hooks_listed), hooks_listed
        socket.close()
    finally:
        server.terminate()
        server.wait()

    # Started again without the allow-list: the same hook's next delivery is refused when sent.
    server, base = start(binary, data, environment=quick)
    try:
        dad = call(base, "POST", "/login", {"username": "dad", "password": password})[1]["token"]
        mum = call(base, "POST", "/login", {"username": "mum", "password": password})[1]["token"]
        socket = websocket.create_connection(base.replace("http", "ws") + "/api/v1/ws",
                                             header=[f"Authorization: Bearer {dad}"], timeout=20)
        later = send(socket, room, "Still there?", "m3")
        socket.close()

        def refused():
            log = call(base, "GET", f"/rooms/{room}/outgoing-webhooks/{hooks['all'][0]}/deliveries", token=mum)[1]
            return [d for d in log["deliveries"] if d["seq"] == later and d["state"] == "failed"]
        entry = wait_for("the refusal at delivery", refused)[0]
        assert "private address" in entry["error"] and entry.get("status") is None, entry
        with lock:
            assert not [r for r in received if json.loads(r[2])["message"]["seq"] == later], received
        print("after the allow-list went:", entry["error"])
    finally:
        server.terminate()
        server.wait()
    receiver.shutdown()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
