"""Web Push against a local push service: RFC 8030 delivery, RFC 8291 encryption, RFC 8292 VAPID.

Usage: web_push.py HEARTH_BINARY DATA_DIR PASSWORD
The users mum and dad must exist in DATA_DIR. Starts `hearth serve` itself (twice: a restart
with pushes queued is part of the test) with HEARTH_PUSH_ALLOW_HTTP=true, and a push service on
127.0.0.1 that checks every request as a real one would: the VAPID JWT (ES256, signed by the key
`GET /api/v1/push/key` publishes, `aud` its own origin, `exp` at most 24 h ahead, a `sub`), the
headers (TTL, Urgency, Topic, Content-Encoding: aes128gcm), and decrypts the body with PyPI's
http_ece using the browser's private key it made. Prints what it checked, then OK.
"""

import base64
import http.server
import json
import os
import sqlite3
import sys
import threading
import time
import urllib.error
import urllib.request

import http_ece
import websocket
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from serve import call, start


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Browser:
    """A browser's side of one subscription: its key pair and auth secret."""

    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.auth = os.urandom(16)
        self.public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class PushService:
    """A push service on loopback: endpoints /push/NAME, each answering as `behaviour[NAME]` says
    ("ok", "gone", "busy" once then ok, "hang"), and checking every request it gets."""

    def __init__(self):
        self.browsers = {}
        self.behaviour = {}
        self.received = []      # (name, headers, payload dict, time)
        self.problems = []
        self.vapid_key = None   # the server's public key, base64url
        self.condition = threading.Condition()
        service = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                name = self.path.rsplit("/", 1)[-1]
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                mode = service.behaviour.get(name, "ok")
                if mode == "garbage":
                    service.note(name, dict(self.headers), {"status": "garbage"}, time.time())
                    self.wfile.write(b"this is not HTTP\r\n\r\n")
                    self.close_connection = True
                    return
                if mode == "hang":
                    time.sleep(20)
                    return
                if mode == "gone":
                    self.send_response(410)
                    self.end_headers()
                    return
                if mode == "busy":
                    service.behaviour[name] = "ok"
                    self.send_response(503)
                    self.send_header("Retry-After", "2")
                    self.end_headers()
                    service.note(name, dict(self.headers), {"status": 503}, time.time())
                    return
                try:
                    payload = service.check(name, self.headers, body)
                except Exception as error:  # noqa: BLE001 - every problem is reported
                    service.problems.append(f"{name}: {error}")
                    payload = {"error": str(error)}
                self.send_response(201)
                self.end_headers()
                service.note(name, dict(self.headers), payload, time.time())

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def endpoint(self, name):
        return f"http://127.0.0.1:{self.port}/push/{name}"

    def note(self, name, headers, payload, at):
        with self.condition:
            self.received.append((name, headers, payload, at))
            self.condition.notify_all()

    def check(self, name, headers, body):
        scheme, _, params = headers["Authorization"].partition(" ")
        assert scheme == "vapid", headers["Authorization"]
        fields = dict(part.strip().split("=", 1) for part in params.split(","))
        assert fields["k"] == self.vapid_key, "k is not the published key"
        header, claims, signature = fields["t"].split(".")
        assert json.loads(unb64(header)) == {"typ": "JWT", "alg": "ES256"}
        claims = json.loads(unb64(claims))
        assert claims["aud"] == f"http://127.0.0.1:{self.port}", claims
        assert time.time() < claims["exp"] <= time.time() + 24 * 3600, claims
        assert claims["sub"].startswith(("mailto:", "https://")), claims
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64(fields["k"]))
        raw = unb64(signature)
        public.verify(
            encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
            f"{header}.{fields['t'].split('.')[1]}".encode(), ec.ECDSA(hashes.SHA256()))
        assert headers["Content-Encoding"] == "aes128gcm", headers
        assert int(headers["TTL"]) > 0, headers
        assert headers["Urgency"] in ("normal", "high"), headers
        assert len(headers["Topic"]) <= 32, headers
        assert len(body) <= 4096, len(body)
        browser = self.browsers[name]
        plain = http_ece.decrypt(body, private_key=browser.key, auth_secret=browser.auth, version="aes128gcm")
        return json.loads(plain)

    def wait(self, name, count, timeout=20):
        """The pushes `name` has had, once there are `count` of them."""
        deadline = time.time() + timeout
        with self.condition:
            while True:
                got = [entry for entry in self.received if entry[0] == name]
                if len(got) >= count:
                    return got
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"{name}: {len(got)} pushes, expected {count}")
                self.condition.wait(left)


def subscribe(base, token, service, name):
    browser = Browser()
    service.browsers[name] = browser
    status, body = call(base, "POST", "/push/subscriptions", {
        "endpoint": service.endpoint(name), "keys": {"p256dh": b64(browser.public), "auth": b64(browser.auth)}}, token)
    assert status == 201, (status, body)
    return browser


def send(url, token, room, text, acks=1):
    """Sends `text` in `room` from a socket of its own and waits for the ack."""
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/api/v1/ws", header=[f"Authorization: Bearer {token}"], timeout=10)
    try:
        ws.send(json.dumps({"type": "send", "id": f"c-{time.time_ns()}", "room": room, "body": text}))
        while True:
            frame = json.loads(ws.recv())
            if frame["type"] == "ack":
                return frame["seq"]
            assert frame["type"] != "error", frame
    finally:
        ws.close()


def start_hearth(binary, data):
    """The server under test: http:// push endpoints on loopback allowed, a 2 s push timeout,
    warnings logged to DATA/serve.log (the test counts what it says about a garbage answer)."""
    return start(
        binary, data, log_level="warning", log=os.path.join(data, "serve.log"),
        environment={"HEARTH_PUSH_ALLOW_HTTP": "true", "HEARTH_PUSH_TIMEOUT": "2"})


def change(url, token, frame):
    """Sends one change frame from a socket of its own and waits for its ack."""
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/api/v1/ws", header=[f"Authorization: Bearer {token}"], timeout=10)
    try:
        ws.send(json.dumps({**frame, "id": f"x-{time.time_ns()}"}))
        while True:
            answer = json.loads(ws.recv())
            if answer["type"] == "ack":
                return answer
            assert answer["type"] != "error", answer
    finally:
        ws.close()


def main(binary, data, password):
    service = PushService()
    server, url = start_hearth(binary, data)
    try:
        mum = call(url, "POST", "/login", {"username": "mum", "password": password})[1]["token"]
        dad = call(url, "POST", "/login", {"username": "dad", "password": password})[1]["token"]
        status, key = call(url, "GET", "/push/key")
        assert status == 200 and len(unb64(key["publicKey"])) == 65, key
        service.vapid_key = key["publicKey"]

        # Bad subscriptions are refused with the reason, and store nothing.
        browser = Browser()
        keys = {"p256dh": b64(browser.public), "auth": b64(browser.auth)}
        for endpoint, keys_, code in [
            ("http://192.168.1.20/push/x", keys, "invalid_field"),
            ("ftp://127.0.0.1/push/x", keys, "invalid_field"),
            (service.endpoint("x"), {"p256dh": b64(browser.public[:40]), "auth": keys["auth"]}, "invalid_field"),
            (service.endpoint("x"), {"p256dh": keys["p256dh"], "auth": "AAAA"}, "invalid_field"),
        ]:
            status, body = call(url, "POST", "/push/subscriptions", {"endpoint": endpoint, "keys": keys_}, dad)
            assert status == 400 and body["error"]["code"] == code, (endpoint, status, body)
            assert "push subscription is not valid" in body["error"]["message"], body
        print("bad subscriptions: 400 invalid_field with the reason")

        # At most 10 per device; the 11th is refused. A device removes its own.
        tablet = call(url, "POST", "/login", {"username": "dad", "password": password})[1]["token"]
        for n in range(10):
            subscribe(url, tablet, service, f"extra-{n}")
        browser = Browser()
        status, body = call(url, "POST", "/push/subscriptions", {
            "endpoint": service.endpoint("extra-10"), "keys": {"p256dh": b64(browser.public), "auth": b64(browser.auth)}},
            tablet)
        assert status == 400 and body["error"]["code"] == "too_many_subscriptions", (status, body)
        for n in range(10):
            status, _ = call(url, "DELETE", "/push/subscriptions", {"endpoint": service.endpoint(f"extra-{n}")}, tablet)
            assert status == 204, status
        status, body = call(url, "DELETE", "/push/subscriptions", {"endpoint": service.endpoint("extra-0")}, tablet)
        assert status == 404, (status, body)
        print("11th subscription of a device: 400 too_many_subscriptions; DELETE removes one (404 when none)")

        # A push service that answers garbage: tried again later, logged once, never fatal.
        subscribe(url, tablet, service, "dad-garbage")
        service.behaviour["dad-garbage"] = "garbage"
        garbage = sqlite3.connect(os.path.join(data, "hearth.sqlite")).execute(
            "SELECT id FROM push_subscriptions WHERE endpoint LIKE '%dad-garbage'").fetchone()[0]

        subscribe(url, dad, service, "dad-phone")
        direct = call(url, "POST", "/rooms", {"members": ["dad"], "direct": True}, mum)[1]["room"]["id"]
        group = call(url, "POST", "/rooms", {"name": "Family", "members": ["dad"]}, mum)[1]["room"]["id"]

        # A direct message to dad, who has no socket open: one push, high urgency, the room's topic.
        seq = send(url, mum, direct, "Dinner at 7?")
        name, headers, payload, _ = service.wait("dad-phone", 1)[0]
        assert headers["Urgency"] == "high" and headers["Topic"] == f"room-{direct}", headers
        assert 86000 < int(headers["TTL"]) <= 86400, headers
        assert payload["title"] == "mum" and payload["body"] == "Dinner at 7?", payload
        assert payload["room"] == direct and payload["seq"] == seq and payload["url"] == f"/#room={direct}", payload
        assert payload["badge"] == 1 and payload["unread"] == {str(direct): 1}, payload
        print("direct message:", headers["Urgency"], headers["Topic"], "TTL", headers["TTL"], payload)

        # In a group: normal urgency, the group's name; a mention is high.
        send(url, mum, group, "Who is home?")
        _, headers, payload, _ = service.wait("dad-phone", 2)[1]
        assert headers["Urgency"] == "normal" and payload["title"] == "mum in Family", (headers, payload)
        send(url, mum, group, "@dad are you?")
        _, headers, payload, _ = service.wait("dad-phone", 3)[2]
        assert headers["Urgency"] == "high" and payload["kind"] == "mention", (headers, payload)
        print("group message: normal; mention: high")

        # Dad narrows previews to the sender only: the text no longer leaves the server.
        status, prefs = call(url, "PATCH", "/me/push", {"preview": "sender"}, dad)
        assert status == 200 and prefs["preview"] == "sender", prefs
        send(url, mum, direct, "the secret is swordfish")
        _, _, payload, _ = service.wait("dad-phone", 4)[3]
        assert payload["title"] == "mum" and payload["body"] == "New message", payload
        assert "swordfish" not in json.dumps(payload), payload
        call(url, "PATCH", "/me/push", {"preview": None}, dad)
        print("preview 'sender': title only, no text")

        # Mum's profile: the notification names her as she goes by, with her face as its icon.
        from profiles import png
        request = urllib.request.Request(
            url + "/api/v1/attachments?name=me.png", method="POST", data=png(64, 64),
            headers={"Content-Type": "image/png", "Authorization": f"Bearer {mum}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            avatar = json.loads(response.read())["attachment"]["id"]
        status, body = call(url, "PATCH", "/me", {"displayName": "Mum", "avatar": avatar}, mum)
        assert status == 200 and body["user"]["avatar"] == avatar, body
        send(url, mum, direct, "Home soon")
        _, _, payload, _ = service.wait("dad-phone", 5)[4]
        assert payload["title"] == "Mum" and payload["icon"] == f"/api/v1/avatars/{avatar}", payload
        call(url, "PATCH", "/me", {"displayName": None, "avatar": None}, mum)
        print("profile: the title says Mum, the icon is her avatar")

        # Dad mutes the group: its messages push no more, but a mention of him does.
        status, body = call(url, "PATCH", f"/rooms/{group}/settings", {"mute": "forever"}, dad)
        assert status == 400 and body["error"]["code"] == "invalid_field", body
        status, body = call(url, "PATCH", f"/rooms/{group}/settings", {"mute": "always"}, dad)
        assert status == 200 and body["settings"]["mutedUntil"] > time.time() * 1000, body
        send(url, mum, group, "muted chatter")
        send(url, mum, group, "@dad muted, but you are mentioned")
        _, _, payload, _ = service.wait("dad-phone", 6)[5]
        assert payload["kind"] == "mention" and payload["body"] == "@dad muted, but you are mentioned", payload
        print("muted group: only the mention pushed")

        # A push service that is busy: 503 with Retry-After 2 is tried again, no sooner.
        service.behaviour["dad-phone"] = "busy"
        send(url, mum, direct, "are you there?")
        entries = service.wait("dad-phone", 8, timeout=30)
        assert entries[6][2] == {"status": 503}, entries[6]
        waited = entries[7][3] - entries[6][3]
        assert waited >= 1.9 and entries[7][2]["body"] == "are you there?", (waited, entries[7])
        print(f"503 Retry-After 2: tried again after {waited:.1f} s")

        # A push service that hangs costs its timeout; the others' pushes go meanwhile.
        subscribe(url, mum, service, "mum-laptop")
        service.behaviour["mum-laptop"] = "hang"
        send(url, dad, direct, "on my way")
        send(url, mum, direct, "see you soon")
        service.wait("dad-phone", 9)
        print("a hanging push service does not hold up the others")

        # Mum reacts to dad's message: his phone hears of it.
        dad_seq = send(url, dad, direct, "I am at the shop")
        time.sleep(1)  # dad's socket is closed by now: his phone counts as offline again
        change(url, mum, {"type": "react", "room": direct, "seq": dad_seq, "emoji": "👍", "on": True})
        _, headers, payload, _ = service.wait("dad-phone", 10)[9]
        assert payload["kind"] == "reaction" and payload["title"] == "mum reacted 👍", payload
        assert payload["body"] == "to “I am at the shop”" and headers["Urgency"] == "normal", (headers, payload)
        assert headers["Topic"] == f"reaction-{direct}", headers
        print("reaction to dad's message: pushed to him")

        # 410: the subscription is gone from the database.
        service.behaviour["dad-phone"] = "gone"
        send(url, mum, direct, "hello?")
        deadline = time.time() + 20
        while time.time() < deadline:
            rows = sqlite3.connect(os.path.join(data, "hearth.sqlite")).execute(
                "SELECT count(*) FROM push_subscriptions WHERE endpoint LIKE '%dad-phone'").fetchone()[0]
            if rows == 0:
                break
            time.sleep(0.2)
        assert rows == 0, "410 did not remove the subscription"
        print("410: subscription removed")

        # Pushes queued while the push service cannot be reached survive a restart of hearth.
        service.behaviour["mum-laptop"] = "ok"
        subscribe(url, dad, service, "dad-tablet")
        service.server.shutdown()
        service.server.server_close()
        send(url, mum, direct, "sent while the push service was down")
        time.sleep(1)
        server.terminate()
        server.wait(timeout=30)
        waiting = sqlite3.connect(os.path.join(data, "hearth.sqlite")).execute(
            "SELECT count(*) FROM push_queue").fetchone()[0]
        assert waiting >= 1, "nothing queued"
        port = service.port
        service.server = Server(("127.0.0.1", port), service.server.RequestHandlerClass)
        threading.Thread(target=service.server.serve_forever, daemon=True).start()
        server, url = start_hearth(binary, data)
        _, _, payload, _ = service.wait("dad-tablet", 1, timeout=90)[0]
        assert payload["body"] == "sent while the push service was down", payload
        print(f"restart with {waiting} queued: delivered after it")

        # A new device asks to be linked to dad's account: his devices without a socket hear of
        # it at once (high urgency, its own topic), without the new device's details.
        status, link = call(url, "POST", "/devices/link", {}, dad)
        assert status == 201, (status, link)
        status, _ = call(url, "POST", f"/devices/link/{link['code']}/claim", {"deviceName": "New phone"})
        assert status == 202, status
        _, headers, payload, _ = service.wait("dad-tablet", 2)[1]
        assert headers["Urgency"] == "high" and headers["Topic"] == "link", headers
        assert payload["kind"] == "link" and payload["title"] == "A new device wants to sign in", payload
        print("link request: pushed, high urgency, topic 'link'")

        # Signing out ends the device's subscriptions.
        status, _ = call(url, "POST", "/logout", {}, dad)
        assert status in (200, 204), status
        rows = sqlite3.connect(os.path.join(data, "hearth.sqlite")).execute(
            "SELECT count(*) FROM push_subscriptions WHERE endpoint LIKE '%dad-tablet'").fetchone()[0]
        assert rows == 0, "the signed-out device's subscription is still there"
        print("sign-out: the device's subscription ended")

        # The garbage answers: several attempts, one log line per server run.
        attempts = len([entry for entry in service.received if entry[0] == "dad-garbage"])
        with open(os.path.join(data, "serve.log")) as log:
            refused = [line for line in log if "push refused" in line and f"subscription={garbage}" in line]
        assert attempts >= 2 and 1 <= len(refused) <= 2, (attempts, refused)
        print(f"garbage answers: {attempts} attempts, {len(refused)} log lines over two server runs")

        assert not service.problems, service.problems
        print("OK")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3])
