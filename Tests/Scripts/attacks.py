"""The security review's attacks, replayed against a real `hearth serve` on 127.0.0.1.

Usage: attacks.py HEARTH_BINARY DATA_DIR FINDING
FINDING is one of: regex, throttle, log, quota, sockets, reset, pending, small.
Each starts its own server (and stops it), makes the accounts it needs with the CLI, runs one
attack as an attacker would, and checks that it gets a clear refusal and changes nothing else.
Prints what it saw, then OK; exits non-zero on the first failed check.
"""

import concurrent.futures
import http.cookiejar
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import websocket

PASSWORD = "a long family password"


def check(condition, message):
    if not condition:
        print("FAILED:", message)
        sys.exit(1)


class Server:
    """`hearth serve` with its whole log (every level asked for) kept in a file."""

    def __init__(self, binary, data, env=None, extra=(), log_level="info"):
        self.binary, self.data = binary, data
        self.log_path = os.path.join(os.path.dirname(os.path.abspath(data)), f"serve-{time.time_ns()}.log")
        self.log = open(self.log_path, "w")
        environment = dict(os.environ, **(env or {}))
        # A free port of our own: with --public-url the start line names that URL, not this one.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [binary, "serve", "--data", data, "--host", "127.0.0.1", "--port", str(port), "--log-level", log_level,
             *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=environment)
        self.stdout = []
        for line in self.process.stdout:
            self.stdout.append(line)
            if line.startswith("Hearth is running at "):
                break
        else:
            raise RuntimeError("hearth serve did not start: " + "".join(self.stdout))
        # The rest of the announcement (a setup link, say) follows in the same write.
        threading.Thread(target=self._drain, daemon=True).start()
        time.sleep(0.2)
        self.ws_url = self.url.replace("http://", "ws://") + "/api/v1/ws"

    def _drain(self):
        for line in self.process.stdout:
            self.stdout.append(line)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()

    def log_text(self):
        with open(self.log_path) as log:
            return log.read()

    def request(self, method, path, body=None, token=None, headers=None, raw=None, timeout=30):
        """(status, parsed JSON or {}, text, response headers)"""
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status, text, answer_headers = response.status, response.read().decode(), response.headers
        except urllib.error.HTTPError as error:
            status, text, answer_headers = error.code, error.read().decode(), error.headers
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = {}
        return status, parsed if isinstance(parsed, dict) else {}, text, answer_headers

    def login(self, username, password=PASSWORD):
        status, answer, text, _ = self.request("POST", "/api/v1/login", {"username": username, "password": password})
        check(status == 200, f"{username} signs in: {status} {text}")
        return answer["token"]

    def socket(self, token, timeout=10):
        return websocket.create_connection(self.ws_url, header=[f"Authorization: Bearer {token}"], timeout=timeout)


def cli(binary, data, *arguments, stdin=None):
    return subprocess.run([binary, *arguments, "--data", data], input=stdin, capture_output=True, text=True)


def add_users(binary, data, *names, admin=()):
    password_file = os.path.join(os.path.dirname(os.path.abspath(data)), "password")
    with open(password_file, "w") as file:
        file.write(PASSWORD)
    for name in names:
        flags = ["--admin"] if name in admin else []
        result = cli(binary, data, "user", "add", name, "--password-file", password_file, *flags)
        check(result.returncode == 0, f"user add {name}: {result.stderr}")


def direct_room(server, token, other):
    status, answer, text, _ = server.request(
        "POST", "/api/v1/rooms", {"members": [other], "direct": True}, token=token)
    check(status in (200, 201), f"room with {other}: {status} {text}")
    return answer["room"]["id"]


def wait_for(ws, predicate, seconds):
    """The first frame within `seconds` for which `predicate` holds, else None."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ws.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            frame = json.loads(ws.recv())
        except (websocket.WebSocketTimeoutException, socket.timeout):
            return None
        if predicate(frame):
            return frame
    return None


class Panel:
    """The admin panel as a browser uses it: a cookie, forms with their CSRF field."""

    def __init__(self, server, username):
        self.server = server
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        status, _ = self.post("/admin/login", {"username": username, "password": PASSWORD})
        check(status == 200, f"admin panel sign-in: {status}")

    def open(self, method, path, form=None):
        data = urllib.parse.urlencode(form).encode() if form is not None else None
        request = urllib.request.Request(self.server.url + path, data=data, method=method)
        request.add_header("Origin", self.server.url)
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def post(self, path, form):
        return self.open("POST", path, form)

    def submit(self, page_path, action, form=None):
        """Posts a form of the page at `page_path` to `action`, with the page's CSRF token."""
        status, page = self.open("GET", page_path)
        check(status == 200, f"GET {page_path}: {status}")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', page)
        check(csrf is not None, f"no CSRF field on {page_path}")
        return self.post(action, dict(form or {}, _csrf=csrf.group(1)))

    def reset_link(self, username):
        status, page = self.submit(f"/admin/users/{username}", f"/admin/users/{username}/reset")
        check(status == 200, f"reset link for {username}: {status}")
        return re.search(r'value="(http[^"]+/reset/[^"]+)"', page).group(1)


# MARK: The attacks


def regex(binary, data):
    """Rules that take a backtracking engine cubic or exponential time, each sent its worst-case
    message of up to 64 KiB over a real socket while /healthz and another user's sends go on."""
    add_users(binary, data, "mum", "kid", "dad", admin=("mum",))
    server = Server(binary, data, env={"HEARTH_MAX_BODY_BYTES": "65536", "HEARTH_MAX_FRAME_BYTES": "70000"})
    try:
        mum, kid, dad = server.login("mum"), server.login("kid"), server.login("dad")
        worst = {
            r"free.*money.*now": "free money " * 5900,
            r"\w*\w*\w*\w*\w*!": "a" * 65000,
            r"(\w\w?)+$": "a" * 64999 + "!",
            r"(a?a)+$": "a" * 64999 + "b",
            r"(\d\d?)+x": "1" * 65000,
            r".*a.*b.*c.*z": "abc" * 21600,
        }
        for pattern in worst:
            status, _, text, _ = server.request(
                "POST", "/api/v1/admin/rules", {"kind": "regex", "pattern": pattern, "action": "flag"}, token=mum)
            check(status == 201, f"rule {pattern} is accepted: {status} {text}")
        kid_room = direct_room(server, kid, "dad")
        dad_room = direct_room(server, dad, "mum")
        kid_socket, dad_socket = server.socket(kid), server.socket(dad)

        problems, health = [], []
        stop = threading.Event()

        def watch_health():
            while not stop.is_set():
                start = time.monotonic()
                try:
                    status, _, _, _ = server.request("GET", "/healthz", timeout=2)
                    health.append(time.monotonic() - start)
                    if status != 200:
                        problems.append(f"/healthz answered {status}")
                except Exception as error:  # noqa: BLE001 - any failure to answer is the finding
                    problems.append(f"/healthz did not answer within 2 s: {error}")
                time.sleep(0.05)

        def dad_sends():
            for index in range(40):
                if stop.is_set():
                    return
                cid = f"dad-{index}"
                dad_socket.send(json.dumps({"type": "send", "id": cid, "room": dad_room, "body": f"hello {index}"}))
                if wait_for(dad_socket, lambda frame: frame.get("id") == cid, 5) is None:
                    problems.append(f"dad's send {index} was not acked within 5 s")
                time.sleep(0.1)

        watchers = [threading.Thread(target=watch_health), threading.Thread(target=dad_sends)]
        for thread in watchers:
            thread.start()
        started = time.monotonic()
        for index, (pattern, text) in enumerate(worst.items()):
            cid = f"kid-{index}"
            kid_socket.send(json.dumps({"type": "send", "id": cid, "room": kid_room, "body": text}))
            answer = wait_for(kid_socket, lambda frame: frame.get("id") == cid, 10)
            check(answer is not None and answer.get("type") == "ack", f"{pattern}: the send is answered: {answer}")
        elapsed = time.monotonic() - started
        watchers[1].join(timeout=30)
        stop.set()
        watchers[0].join(timeout=10)
        check(not problems, "; ".join(problems[:5]))
        check(health, "no /healthz answer at all")
        print(f"regex: 6 worst-case messages ({sum(len(t) for t in worst.values())} bytes) answered in "
              f"{elapsed:.2f} s; {len(health)} /healthz answers, slowest {max(health) * 1000:.0f} ms; "
              "dad's 40 sends acked")

        # Backtracking features are refused by name, and the rule set stays as it was.
        before = server.request("GET", "/api/v1/admin/rules", token=mum)[1]["rules"]
        for pattern, reason in [(r"(x)\1", "backreferences"), (r"spam(?!mer)", "lookahead")]:
            status, answer, text, _ = server.request(
                "POST", "/api/v1/admin/rules", {"kind": "regex", "pattern": pattern, "action": "block"}, token=mum)
            check(status == 400 and answer["error"]["code"] == "invalid_rule" and reason in answer["error"]["message"],
                  f"{pattern} is refused for its {reason}: {status} {text}")
        check(server.request("GET", "/api/v1/admin/rules", token=mum)[1]["rules"] == before,
              "a refused rule leaves the rules as they were")
    finally:
        server.stop()


def throttle(binary, data):
    """40 simultaneous wrong-password sign-ins for one account from one address, on the API and
    the admin panel; 40 simultaneous registrations from one address."""
    add_users(binary, data, "mum", admin=("mum",))
    server = Server(binary, data, env={"HEARTH_HASH_QUEUE": "64"})
    try:
        def wrong_login(_):
            return server.request("POST", "/api/v1/login", {"username": "mum", "password": "wrong password!"})[0]

        def wrong_panel_login(_):
            form = urllib.parse.urlencode({"username": "mum", "password": "wrong password!"}).encode()
            return server.request("POST", "/admin/login", raw=form,
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})[0]

        for name, attempt in [("api", wrong_login), ("admin panel", wrong_panel_login)]:
            with concurrent.futures.ThreadPoolExecutor(40) as pool:
                statuses = list(pool.map(attempt, range(40)))
            checked = statuses.count(401)
            check(checked <= 5 and statuses.count(429) == 40 - checked,
                  f"{name}: at most 5 of 40 reach the hasher, the rest 429: {sorted(statuses)}")
            print(f"throttle: {name}: {checked} of 40 wrong sign-ins checked, {statuses.count(429)} throttled")
            # Wait out the backoff before the next round (1 s after the fifth failure, 2 s after…).
            time.sleep(0.1)
            server.stop()
            server = Server(binary, data, env={"HEARTH_HASH_QUEUE": "64"})

        check(cli(binary, data, "registration", "open").returncode == 0, "registration open")

        def register(index):
            return server.request("POST", "/api/v1/register",
                                  {"username": f"new{index}", "password": PASSWORD})[0]

        with concurrent.futures.ThreadPoolExecutor(40) as pool:
            statuses = list(pool.map(register, range(40)))
        created = statuses.count(201)
        check(created <= 5 and statuses.count(429) == 40 - created,
              f"registration: at most 5 of 40 go through: {sorted(statuses)}")
        users = cli(binary, data, "user", "list").stdout
        check(len(re.findall(r"\bnew\d+\b", users)) == created, "exactly the accepted registrations exist")
        print(f"throttle: registration: {created} of 40 accounts created, {statuses.count(429)} throttled")
    finally:
        server.stop()


def log(binary, data):
    """Every kind of secret link and code, served, with the log at trace level: none in the log,
    in either format (text, and JSON lines on a second, fresh server)."""
    log_in_format(binary, data, "text")
    log_in_format(binary, data + "-json", "json")


def log_in_format(binary, data, log_format):
    server = Server(binary, data, log_level="trace", extra=("--log-format", log_format))
    secrets = []
    try:
        setup = re.search(r"/setup\?token=(\S+)", "".join(server.stdout)).group(1)
        secrets.append(setup)
        check(server.request("GET", f"/setup?token={setup}")[0] == 200, "the setup page opens")
        status, answer, _, _ = server.request(
            "POST", "/api/v1/setup", {"token": setup, "username": "mum", "password": PASSWORD})
        check(status == 201, f"setup: {status}")
        mum = answer["token"]
        secrets.append(mum)

        invite = cli(binary, data, "invite", "create").stdout.split()[0]
        code = invite.rsplit("/", 1)[1]
        secrets.append(code)
        check(server.request("GET", f"/invite/{code}")[0] == 200, "the invite page opens")
        status, answer, _, _ = server.request(
            "POST", "/api/v1/register", {"username": "kid", "password": PASSWORD, "invite": code})
        check(status == 201, f"register with the invite: {status}")
        secrets.append(answer["token"])

        # A device link: shown, scanned, claimed, approved, waited for.
        status, answer, _, _ = server.request("POST", "/api/v1/devices/link", {}, token=mum)
        check(status in (200, 201), f"link code: {status}")
        link = answer["code"]
        secrets.append(link)
        for path in [f"/link/{link}", f"/api/v1/devices/link/{link}/qr.svg"]:
            check(server.request("GET", path, token=mum)[0] == 200, f"GET {path}")
        status, claim, _, _ = server.request("POST", f"/api/v1/devices/link/{link}/claim", {"deviceName": "phone"})
        check(status in (200, 202), f"claim: {status}")
        secrets.append(claim["token"])
        check(server.request("POST", f"/api/v1/devices/link/{link}/approve", {}, token=mum)[0] in (200, 204),
              "approve")
        server.request("GET", f"/api/v1/devices/link/{link}/wait?token={claim['token']}",
                       headers={"Authorization": f"Bearer {claim['token']}"})

        # A recovery link, from the command line.
        recovery = cli(binary, data, "user", "link", "kid").stdout
        recovery_code = re.search(r"/link/(\S+)", recovery).group(1)
        secrets.append(recovery_code)
        server.request("GET", f"/link/{recovery_code}")
        server.request("POST", f"/api/v1/devices/link/{recovery_code}/claim", {"deviceName": "new phone"})

        # A password reset link, from the admin panel, opened and used.
        panel = Panel(server, "mum")
        reset = panel.reset_link("kid")
        reset_code = reset.rsplit("/", 1)[1]
        secrets.append(reset_code)
        check(server.request("GET", f"/reset/{reset_code}")[0] == 200, "the reset page opens")
        form = urllib.parse.urlencode({"password": "another long password"}).encode()
        server.request("POST", f"/reset/{reset_code}", raw=form,
                       headers={"Content-Type": "application/x-www-form-urlencoded"})
        # An invite made and revoked in the panel.
        status, page = panel.submit("/admin/invites", "/admin/invites", {"uses": "1", "days": "7"})
        panel_invite = re.search(r"/invite/([a-z2-7]{26})", page)
        if panel_invite:
            secrets.append(panel_invite.group(1))
            server.request("GET", f"/invite/{panel_invite.group(1)}")
        # Wrong codes are secrets too, as far as the log knows.
        for path in ["/invite/aaaaaaaaaaaaaaaaaaaaaaaaaa", "/link/" + "B" * 43, "/reset/" + "C" * 43]:
            server.request("GET", path)
    finally:
        server.stop()
    text = server.log_text()
    check(len(text.splitlines()) > 20, "the log has the requests in it")
    leaked = [secret for secret in secrets if secret in text]
    check(not leaked, f"{len(leaked)} secrets in the log, e.g. …{leaked[0][-6:] if leaked else ''}")
    check("[redacted]" in text, "the log marks what it left out")
    if log_format == "json":
        # One JSON object per line, each with the fields ADMIN.md names.
        for line in text.splitlines():
            entry = json.loads(line)
            check({"time", "level", "label", "source", "message"} <= set(entry), f"a JSON log line: {line}")
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", entry["time"]), entry["time"])
        requests = [json.loads(line) for line in text.splitlines() if '"GET /setup' in line]
        check(requests and isinstance(requests[0].get("metadata"), dict), f"a request's metadata: {requests[:1]}")
    print(f"log ({log_format}): {len(secrets)} secrets served, {len(text.splitlines())} log lines at trace level,"
          " none leaked")


def quota(binary, data):
    """8 parallel uploads of 600 KB against a 1 MB quota."""
    add_users(binary, data, "kid")
    server = Server(binary, data, env={"HEARTH_ATTACHMENT_QUOTA_BYTES": "1000000"})
    try:
        kid = server.login("kid")
        body = (b"the garden in spring, " * 30000)[:600_000]

        def upload(_):
            return server.request("POST", "/api/v1/attachments", raw=body, token=kid,
                                  headers={"Content-Type": "text/plain"})[:2]

        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(upload, range(8)))
        statuses = [status for status, _ in answers]
        stored = statuses.count(201)
        refused = [answer.get("error", {}).get("code") for status, answer in answers if status != 201]
        check(stored == 1, f"one upload fits the quota: {statuses}")
        check(set(refused) == {"quota_exceeded"}, f"the others get quota_exceeded: {refused}")
    finally:
        server.stop()
    database = sqlite3.connect(os.path.join(data, "hearth.sqlite"))
    total = database.execute("SELECT coalesce(sum(length(data)), 0) FROM attachment_chunks").fetchone()[0]
    database.close()
    check(total <= 1_000_000, f"at most the quota is stored: {total} bytes")
    print(f"quota: 8 parallel 600 KB uploads against 1 MB: {stored} stored ({total} bytes), the rest quota_exceeded")


def sockets(binary, data):
    """One token opening socket after socket; then a user's devices together."""
    add_users(binary, data, "kid", "dad")
    server = Server(binary, data)
    try:
        kid = server.login("kid")
        opened = [server.socket(kid) for _ in range(8)]
        extra = server.socket(kid)
        opcode, frame = extra.recv_data_frame(control_frame=True)
        code = int.from_bytes(frame.data[:2], "big") if opcode == websocket.ABNF.OPCODE_CLOSE else None
        check(code == 4029, f"the 9th socket of one device is closed with 4029: {opcode} {code}")
        check(b"too many sockets" in frame.data[2:], f"with a reason: {frame.data[2:]}")
        # The first eight still work.
        opened[0].send(json.dumps({"type": "ping", "id": "p"}))
        check(wait_for(opened[0], lambda f: f.get("type") == "pong", 5) is not None, "an open socket still answers")
        # Everyone else behind the same address is not locked out.
        dad = server.login("dad")
        dad_socket = server.socket(dad)
        dad_socket.send(json.dumps({"type": "ping", "id": "p"}))
        check(wait_for(dad_socket, lambda f: f.get("type") == "pong", 5) is not None, "dad connects")
        # Per user: four more devices of kid's, eight sockets each, pass 32 in all.
        more = [server.login("kid") for _ in range(3)]
        for token in more:
            opened += [server.socket(token) for _ in range(8)]
        last = server.socket(server.login("kid"))
        opcode, frame = last.recv_data_frame(control_frame=True)
        check(opcode == websocket.ABNF.OPCODE_CLOSE and int.from_bytes(frame.data[:2], "big") == 4029,
              "the 33rd socket of one user is closed with 4029")
        print(f"sockets: 9th socket of a device and 33rd of a user closed with 4029; {len(opened)} stay open")
        for ws in opened:
            ws.close()
    finally:
        server.stop()


def reset(binary, data):
    """A newer reset link, or `hearth user reset-password`, ends the older links."""
    add_users(binary, data, "mum", "kid", admin=("mum",))
    server = Server(binary, data)
    try:
        panel = Panel(server, "mum")
        first, second = panel.reset_link("kid"), panel.reset_link("kid")
        form = urllib.parse.urlencode({"password": "the second new password"}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        status = server.request("POST", "/" + second.split("/", 3)[3], raw=form, headers=headers)[0]
        check(status == 200, f"the newer link sets the password: {status}")
        form = urllib.parse.urlencode({"password": "an attacker's password"}).encode()
        status = server.request("POST", "/" + first.split("/", 3)[3], raw=form, headers=headers)[0]
        check(status == 410, f"the older link no longer works: {status}")
        check(server.request("POST", "/api/v1/login",
                             {"username": "kid", "password": "the second new password"})[0] == 200,
              "the password is the one the newer link set")

        third = panel.reset_link("kid")
        result = cli(binary, data, "user", "reset-password", "kid", "--password-file", "-",
                     stdin="a third long password")
        check(result.returncode == 0, f"reset-password: {result.stderr}")
        check(server.request("GET", "/" + third.split("/", 3)[3])[0] == 410,
              "a link made before `hearth user reset-password` no longer works")
        print("reset: older links end when a newer one is used and when the CLI resets the password")
    finally:
        server.stop()


def pending(binary, data):
    """Nine unapproved link claims and one signed-in device, then a sign-in (cap: 10 devices)."""
    add_users(binary, data, "kid")
    server = Server(binary, data, env={"HEARTH_DEVICES_PER_USER": "10"})
    try:
        kid = server.login("kid")
        for index in range(9):
            status, answer, text, _ = server.request("POST", "/api/v1/devices/link", {}, token=kid)
            check(status in (200, 201), f"link code {index}: {status} {text}")
            status, _, text, _ = server.request(
                "POST", f"/api/v1/devices/link/{answer['code']}/claim", {"deviceName": f"stranger {index}"})
            check(status in (200, 202), f"claim {index}: {status} {text}")
        status, _, text, _ = server.request("POST", "/api/v1/login", {"username": "kid", "password": PASSWORD})
        check(status == 200, f"a sign-in with nine claims waiting works: {status} {text}")
        print("pending: nine unapproved claims do not count toward the device cap; the sign-in works")
    finally:
        server.stop()


def small(binary, data):
    """The review's smaller findings on a live server: HSTS under an https:// public URL, one frame
    over the limit, the id of a send the frame limit refused, invite codes at rest."""
    add_users(binary, data, "kid", "dad")
    server = Server(binary, data, env={"HEARTH_FRAMES_PER_SECOND": "1"},
                    extra=["--public-url", "https://chat.example.org"])
    try:
        _, _, _, headers = server.request("GET", "/")
        check(headers.get("Strict-Transport-Security") == "max-age=31536000", f"HSTS: {dict(headers)}")

        kid = server.login("kid")
        room = direct_room(server, kid, "dad")
        ws = server.socket(kid)
        for index in range(5):
            ws.send(json.dumps({"type": "send", "id": f"s{index}", "room": room, "body": "hi"}))
        refused = [frame for frame in iter(lambda: wait_for(ws, lambda f: f.get("type") == "error", 3), None)]
        check(refused and all(frame.get("code") == "rate_limited" and frame.get("id") for frame in refused),
              f"each refused send is named: {refused}")

        big = server.socket(kid)
        big.send("x" * (64 * 1024 * 4))
        opcode, frame = big.recv_data_frame(control_frame=True)
        code = int.from_bytes(frame.data[:2], "big") if opcode == websocket.ABNF.OPCODE_CLOSE else None
        check(code == 1009, f"a frame over 64 KiB closes with 1009, not a reset: {opcode} {code}")

        invite = cli(binary, data, "invite", "create").stdout.split()[0]
        code = invite.rsplit("/", 1)[1]
        check(server.request("GET", f"/invite/{code}")[0] == 200, "the invite works")
    finally:
        server.stop()
    with open(os.path.join(data, "hearth.sqlite"), "rb") as database:
        check(code.encode() not in database.read(), "the invite code is not in the database")
    print(f"small: HSTS sent, {len(refused)} refused sends named, 1009 for a 256 KiB frame, invite code not stored")


ATTACKS = {"regex": regex, "throttle": throttle, "log": log, "quota": quota, "sockets": sockets,
           "reset": reset, "pending": pending, "small": small}

if __name__ == "__main__":
    binary_path, data_dir, finding = sys.argv[1:4]
    ATTACKS[finding](binary_path, data_dir)
    print("OK")
