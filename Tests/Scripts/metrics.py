"""/metrics against a real `hearth serve`, read with prometheus_client's own text parser: every
metric docs/ADMIN.md lists is there with the type it says, and the counters move with traffic
(sign-ins ok and failed, messages stored and delivered, the send/ack histogram, an upload, a
rule hit); an address not allowed gets 403 unless it brings the token.

Usage: metrics.py HEARTH_BINARY DATA_DIR PASSWORD
DATA_DIR holds mum (an admin) and dad with PASSWORD. Prints OK.
"""

import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket
from prometheus_client.parser import text_string_to_metric_families
from serve import start

ADMIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "docs", "ADMIN.md")


def documented():
    """{name: type} from the metrics table in docs/ADMIN.md."""
    text = open(ADMIN).read()
    section = text.split("## Metrics", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| `(hearth_[a-z_]+)` \| (counter|gauge|histogram) \|", section, re.M))


def call(base, method, path, body=None, token=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(base + path, method=method, data=data)
    if data is not None:
        request.add_header("Content-Type", content_type)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def scrape(base, token=None):
    status, body = call(base, "GET", "/metrics", token=token)
    assert status == 200, (status, body[:200])
    families = {family.name: family for family in text_string_to_metric_families(body.decode())}
    values = {}
    for family in families.values():
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return families, values


def value(values, name, **labels):
    return values.get((name, tuple(sorted(labels.items()))), 0)


def main(binary, data, password):
    expected = documented()
    assert len(expected) >= 20, expected
    token_file = os.path.join(tempfile.mkdtemp(), "metrics-token")
    secret = "s3cret-metrics-token-0123456789"
    with open(token_file, "w") as handle:
        handle.write(secret + "\n")

    # Only 10.9.8.7 may scrape, and the token holder: this test, on loopback, is neither at first.
    server, base = start(binary, data, environment={
        "HEARTH_METRICS_ALLOW": "10.9.8.7,192.168.0.0/16", "HEARTH_METRICS_TOKEN_FILE": token_file})
    try:
        status, body = call(base, "GET", "/metrics")
        assert status == 403 and b"HEARTH_METRICS_ALLOW" in body, (status, body)
        status, _ = call(base, "GET", "/metrics", token="not-the-token-at-all-no")
        assert status == 403, status
        families, before = scrape(base, token=secret)
        print("an address not allowed: 403; with the token: 200")

        # Every documented metric, with its documented type; nothing undocumented of ours.
        ours = {name: family.type for name, family in families.items() if name.startswith("hearth_")}
        # The parser names a counter family without its _total suffix.
        ours = {(name + "_total" if kind == "counter" else name): kind for name, kind in ours.items()}
        assert ours == expected, ({k: v for k, v in expected.items() if ours.get(k) != v},
                                  {k: v for k, v in ours.items() if expected.get(k) != v})
        print(f"{len(expected)} metrics, as documented:", ", ".join(sorted(expected)))

        # Traffic: a wrong password, two sign-ins, a rule, messages both ways, an upload.
        status, _ = call(base, "POST", "/api/v1/login", {"username": "mum", "password": "wrong password!"})
        assert status == 401, status
        tokens = {}
        for name in ("mum", "dad"):
            status, body = call(base, "POST", "/api/v1/login", {"username": name, "password": password})
            assert status == 200, (status, body)
            tokens[name] = json.loads(body)["token"]
        status, body = call(base, "POST", "/api/v1/admin/rules", {"pattern": "broccoli", "kind": "word", "action": "flag"},
                            token=tokens["mum"])
        assert status in (200, 201), (status, body)
        status, body = call(base, "POST", "/api/v1/rooms", {"members": ["dad"], "direct": True}, token=tokens["mum"])
        room = json.loads(body)["room"]["id"]
        sockets = {}
        for name in ("mum", "dad"):
            sockets[name] = websocket.create_connection(
                base.replace("http", "ws") + "/api/v1/ws", header=[f"Authorization: Bearer {tokens[name]}"], timeout=20)
        for n in range(5):
            sockets["mum"].send(json.dumps({"type": "send", "id": f"m{n}", "room": room,
                                            "body": "broccoli for tea" if n == 0 else f"hello {n}"}))
        received = 0
        deadline = time.time() + 20
        while received < 5 and time.time() < deadline:
            frame = json.loads(sockets["dad"].recv())
            received += frame.get("type") == "message"
        assert received == 5, received
        status, body = call(base, "POST", "/api/v1/attachments?name=a.txt", token=tokens["mum"],
                            raw=b"x" * 1234, content_type="text/plain")
        assert status == 201, (status, body)
        families, after = scrape(base, token=secret)
        for socket in sockets.values():
            socket.close()

        def grew(name, by, **labels):
            was, now = value(before, name, **labels), value(after, name, **labels)
            assert now - was >= by, (name, labels, was, now)
        grew("hearth_sign_ins_total", 1, result="failed")
        grew("hearth_sign_ins_total", 2, result="ok")
        grew("hearth_messages_stored_total", 5)
        grew("hearth_messages_delivered_total", 5)
        grew("hearth_send_ack_seconds_count", 5)
        grew("hearth_writer_batch_jobs_count", 1)
        grew("hearth_writer_commit_seconds_count", 1)
        grew("hearth_rule_hits_total", 1, action="flag")
        grew("hearth_attachment_bytes_uploaded_total", 1234)
        assert value(after, "hearth_attachment_bytes") >= 1234, after
        assert value(after, "hearth_users") == 2 and value(after, "hearth_backup_age_seconds") == -1, after
        assert value(after, "hearth_review_queue_open") >= 1, "the flagged message waits for review"
        print("after traffic: sign-ins ok", value(after, "hearth_sign_ins_total", result="ok"),
              "failed", value(after, "hearth_sign_ins_total", result="failed"),
              "; stored", value(after, "hearth_messages_stored_total"),
              "delivered", value(after, "hearth_messages_delivered_total"),
              "; send/ack count", value(after, "hearth_send_ack_seconds_count"),
              "; rule hits (flag)", value(after, "hearth_rule_hits_total", action="flag"))
    finally:
        server.terminate()
        server.wait()

    # By default, this machine (loopback) may scrape without a token.
    server, base = start(binary, data)
    try:
        scrape(base)
        print("default: loopback may scrape")
    finally:
        server.terminate()
        server.wait()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
