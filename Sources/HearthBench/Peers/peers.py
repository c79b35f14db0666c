#!/usr/bin/env python3
"""The reference-peer workload: Hearth and Debian's Prosody, the same Python clients.

10 sender/reader pairs in direct chats, 2,000 messages per sender, at most 64 in flight per
sender (sent and not yet read by its reader), as fast as the server takes them; then 2,000 idle
authenticated sockets. Reports each server's process CPU per delivered message (from
/proc/PID/stat, so the clients sharing the cores do not count) and its resident memory per idle
socket. Every server runs on 127.0.0.1 from a temporary directory and is stopped at the end.

    python3 Sources/HearthBench/Peers/peers.py --hearth .build/release/hearth [--prosody]

Hearth runs with the load settings HearthBench uses (rate limits lifted, cheap Argon2 for the
set-up accounts); it is durable (`synchronous=FULL`). Prosody runs with Debian's configuration
(`/etc/prosody/prosody.cfg.lua`: its modules, c2s rate limit and required TLS) with only its
paths moved to the temporary directory and its listeners on 127.0.0.1; it keeps no message on disk.
"""
import argparse, base64, json, os, re, resource, shutil, socket, ssl, subprocess, sys, tempfile
import threading, time, urllib.request

import websocket  # websocket-client

PAIRS, MESSAGES, WINDOW, IDLE = 10, 2000, 64, 2000
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Window:
    """Messages a sender may still send: at most WINDOW sent and not yet read."""

    def __init__(self):
        self.sent = self.read = 0
        self.cond = threading.Condition()

    def take(self):
        with self.cond:
            while self.sent - self.read >= WINDOW:
                self.cond.wait()
            self.sent += 1
            return self.sent

    def arrived(self, count):
        with self.cond:
            self.read += count
            self.cond.notify()


def run_pairs(pairs):
    """Runs the pairs, each (send(n), read_loop(on_count), close); returns seconds taken and messages lost."""
    threads, windows = [], []
    for send, read_loop, _ in pairs:
        window = Window()
        windows.append(window)

        def sender(send=send, window=window):
            for _ in range(MESSAGES):
                send(window.take())

        def reader(read_loop=read_loop, window=window):
            read_loop(window.arrived)

        threads += [threading.Thread(target=sender), threading.Thread(target=reader)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    elapsed = time.monotonic() - start
    for _, _, close in pairs:
        close()
    lost = sum(MESSAGES - min(w.read, MESSAGES) for w in windows)
    return elapsed, lost


# MARK: Hearth


class Hearth:
    def __init__(self, binary, directory):
        self.binary, self.data = binary, os.path.join(directory, "hearth")
        env = dict(os.environ, HEARTH_THROTTLE_REGISTER="1000000", HEARTH_MAX_CONNECTIONS_PER_ADDRESS="1000000",
                   HEARTH_SOCKETS_PER_DEVICE="1000000", HEARTH_SOCKETS_PER_USER="1000000",
                   HEARTH_MESSAGES_PER_MINUTE="10000000", HEARTH_FRAMES_PER_SECOND="1000000")
        self.process = subprocess.Popen(
            [binary, "serve", "--data", self.data, "--host", "127.0.0.1", "--port", "0", "--log-level", "warning",
             "--argon2-memory", "1024", "--argon2-iterations", "1"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in self.process.stdout:
            if line.startswith("Hearth is running at "):
                self.url = line.split()[4]
                break
        threading.Thread(target=self.process.stdout.read, daemon=True).start()
        subprocess.run([binary, "registration", "open", "--data", self.data], check=True, capture_output=True)
        self.pid = self.process.pid

    def post(self, path, body, token=None):
        request = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="POST",
                                         headers={"Content-Type": "application/json"})
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        return json.load(urllib.request.urlopen(request))

    def socket(self, token):
        ws = websocket.create_connection(self.url.replace("http://", "ws://") + "/api/v1/ws",
                                         header=[f"Authorization: Bearer {token}"])
        return ws

    def open_pair(self, index):
        tokens = [self.post("/api/v1/register", {"username": f"{role}{index}", "password": "benchmark family password"})
                  ["token"] for role in ("sender", "reader")]
        room = self.post("/api/v1/rooms", {"members": [f"reader{index}"], "direct": True}, tokens[0])["room"]["id"]
        sender, reader = self.socket(tokens[0]), self.socket(tokens[1])
        lock = threading.Lock()

        def drain():  # the sender's own socket: acks and receipts
            try:
                while True:
                    sender.recv()
            except Exception:
                pass

        threading.Thread(target=drain, daemon=True).start()

        def send(n):
            frame = json.dumps({"type": "send", "id": f"c{n}", "room": room, "body": f"message {n} of the benchmark"})
            with lock:
                sender.send(frame)

        def read_loop(arrived):
            got = 0
            while got < MESSAGES:
                if json.loads(reader.recv()).get("type") == "message":
                    got += 1
                    arrived(1)

        def close():
            sender.close()
            reader.close()

        return send, read_loop, close

    def idle(self, count):
        token = self.post("/api/v1/register", {"username": "idle", "password": "benchmark family password"})["token"]
        return [self.socket(token) for _ in range(count)]

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


# MARK: Prosody


class XMPP:
    """A minimal XMPP client: STARTTLS, SASL PLAIN, resource binding, available presence."""

    def __init__(self, user, password, resource):
        raw = socket.create_connection(("127.0.0.1", 5222))
        self.sock = raw
        self.buffer = b""
        self.open()
        self.until(b"</stream:features>")
        self.sock.sendall(b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
        self.until(b"<proceed")
        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        self.sock = context.wrap_socket(raw, server_hostname="localhost")
        self.buffer = b""
        self.open()
        self.until(b"</stream:features>")
        plain = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        self.sock.sendall(f"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>{plain}</auth>".encode())
        self.until(b"<success")
        self.buffer = b""
        self.open()
        self.until(b"</stream:features>")
        self.sock.sendall(f"<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>"
                          f"<resource>{resource}</resource></bind></iq>".encode())
        self.until(b"</iq>")
        self.sock.sendall(b"<presence/>")
        self.buffer = b""

    def open(self):
        self.sock.sendall(b"<?xml version='1.0'?><stream:stream to='localhost' xmlns='jabber:client' "
                          b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")

    def until(self, marker):
        while marker not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError(f"prosody closed the stream: {self.buffer[-300:]!r}")
            if b"<failure" in chunk or b"<stream:error" in chunk:
                raise RuntimeError(f"prosody refused: {chunk[:300]!r}")
            self.buffer += chunk
        self.buffer = self.buffer[self.buffer.index(marker) + len(marker):]

    def close(self):
        try:
            self.sock.sendall(b"</stream:stream>")
            self.sock.close()
        except OSError:
            pass


class Prosody:
    def __init__(self, directory):
        self.dir = os.path.join(directory, "prosody")
        os.makedirs(os.path.join(self.dir, "data"))
        os.makedirs(os.path.join(self.dir, "certs"))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=localhost", "-keyout", os.path.join(self.dir, "certs", "localhost.key"),
                        "-out", os.path.join(self.dir, "certs", "localhost.crt")], check=True, capture_output=True)
        config = open("/etc/prosody/prosody.cfg.lua").read()
        config = re.sub(r'(?m)^pidfile = .*$', f'pidfile = "{self.dir}/prosody.pid"', config)
        config = re.sub(r'(?ms)^log = \{.*?^\}', f'log = {{ warn = "{self.dir}/prosody.log" }}', config)
        config = re.sub(r'(?m)^Include .*$', '', config)
        config = (f'data_path = "{self.dir}/data"\ninterfaces = {{ "127.0.0.1" }}\n'
                  f'local_interfaces = {{ "127.0.0.1" }}\n' + config)
        self.config = os.path.join(self.dir, "prosody.cfg.lua")
        open(self.config, "w").write(config)
        # Prosody and prosodyctl run as Debian's `prosody` user, as the package runs them.
        os.chmod(directory, 0o755)
        subprocess.run(["chown", "-R", "prosody:prosody", self.dir], check=True)
        self.process = subprocess.Popen(["prosody", "--config", self.config, "-F"], user="prosody", group="prosody",
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", 5222)).close()
                break
            except OSError:
                time.sleep(0.1)
        self.pid = self.process.pid
        self.users = set()

    def register(self, user):
        if user not in self.users:
            subprocess.run(["prosodyctl", "--config", self.config, "register", user, "localhost", "password"],
                           check=True, capture_output=True)
            self.users.add(user)

    def open_pair(self, index):
        for role in ("s", "r"):
            self.register(f"{role}{index}")
        sender, reader = XMPP(f"s{index}", "password", "bench"), XMPP(f"r{index}", "password", "bench")
        lock = threading.Lock()

        def drain():
            try:
                while sender.sock.recv(65536):
                    pass
            except OSError:
                pass

        threading.Thread(target=drain, daemon=True).start()

        def send(n):
            stanza = (f"<message to='r{index}@localhost' type='chat' id='m{n}'>"
                      f"<body>message {n} of the benchmark</body></message>").encode()
            with lock:
                sender.sock.sendall(stanza)

        def read_loop(arrived):
            got, tail = 0, b""
            while got < MESSAGES:
                chunk = tail + reader.sock.recv(65536)
                count = chunk.count(b"<message ")
                tail = chunk[-8:]
                count -= tail.count(b"<message ")
                got += count
                if count:
                    arrived(count)

        def close():
            sender.close()
            reader.close()

        return send, read_loop, close

    def idle(self, count):
        for user in range(20):
            self.register(f"idle{user}")
        return [XMPP(f"idle{n % 20}", "password", f"r{n}") for n in range(count)]

    def stop(self):
        # Prosody takes its time saying goodbye to thousands of streams: a few seconds, then kill.
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def measure(name, server):
    pairs = [server.open_pair(i) for i in range(PAIRS)]  # accounts, chats and sockets: not measured
    cpu0 = cpu_seconds(server.pid)
    elapsed, lost = run_pairs(pairs)
    cpu = cpu_seconds(server.pid) - cpu0
    delivered = PAIRS * MESSAGES - lost
    time.sleep(1)
    rss0 = rss_kib(server.pid)
    sockets = server.idle(IDLE)
    time.sleep(2)
    rss1 = rss_kib(server.pid)
    for s in sockets:
        s.close()
    result = {"server": name, "delivered": delivered, "lost": lost, "seconds": round(elapsed, 2),
              "msgs_per_s": round(delivered / elapsed), "cpu_s": round(cpu, 3),
              "us_per_msg": round(cpu / max(delivered, 1) * 1e6, 1),
              "idle_kib_per_socket": round((rss1 - rss0) / IDLE, 1)}
    print(json.dumps(result), flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hearth", help="the hearth binary (a release build)")
    parser.add_argument("--prosody", action="store_true", help="also run Debian's prosody")
    parser.add_argument("--json", help="also write the results, a list, as JSON to this file")
    args = parser.parse_args()
    results = []
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    directory = tempfile.mkdtemp(prefix="hearth-peers-")
    try:
        if args.hearth:
            hearth = Hearth(args.hearth, directory)
            try:
                results.append(measure("hearth", hearth))
            finally:
                hearth.stop()
        if args.prosody:
            prosody = Prosody(directory)
            try:
                results.append(measure("prosody", prosody))
            finally:
                prosody.stop()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)


if __name__ == "__main__":
    main()
