"""Incoming webhooks posted to by the real clients: `curl` (plain text with and without a Title
header, Slack-style JSON, a photo with `-F file=@…`) and Apprise from PyPI (`json://`, `form://`
with an attachment, and `jsons://` against hearth serving HTTPS with a self-signed certificate).
Each message reaches a member's live socket as the webhook's bot, with the text the tool meant.

Usage: webhooks.py HEARTH_BINARY DATA_DIR PASSWORD
DATA_DIR holds mum and dad with PASSWORD. Prints OK.
"""

import json
import os
import struct
import subprocess
import sys
import tempfile
import zlib

import apprise
import websocket
from serve import call, free_port, start


def messages(socket, count):
    got = []
    while len(got) < count:
        frame = json.loads(socket.recv())
        if frame.get("type") == "message":
            got.append(frame)
    return got


def png(path, width=40, height=30):
    """Writes a small real PNG (a grey gradient) to `path`."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes((x * 6) % 256 for x in range(width)) for _ in range(height))
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def run(binary, data, password, tls=None):
    import ssl
    context = ssl._create_unverified_context() if tls else None
    port = free_port()
    args = []
    if tls:
        args = ["--tls-cert", tls[0], "--tls-key", tls[1]]
    server, base = start(binary, data, port=port, extra=args)
    try:
        mum = call(base, "POST", "/login", {"username": "mum", "password": password}, context=context)[1]["token"]
        dad = call(base, "POST", "/login", {"username": "dad", "password": password}, context=context)[1]["token"]
        room = call(base, "POST", "/rooms", {"name": "Home", "members": ["dad"]}, mum, context)[1]["room"]["id"]
        made = call(base, "POST", f"/rooms/{room}/webhooks", {"name": "House"}, mum, context)[1]
        url, bot = made["url"], made["webhook"]["username"]
        scheme = "wss" if tls else "ws"
        socket = websocket.create_connection(
            f"{scheme}://127.0.0.1:{port}/api/v1/ws", header=[f"Authorization: Bearer {dad}"], timeout=30,
            sslopt={"cert_reqs": ssl.CERT_NONE} if tls else None)
        return server, base, url, bot, socket
    except Exception:
        server.terminate()
        raise


def main(binary, data, password):
    server, base, url, bot, socket = run(binary, data, password)
    try:
        for args, expected in [
            (["-d", "Hello from curl"], "Hello from curl"),
            (["-H", "Title: Laundry", "-d", "Washing machine finished"], "Laundry\nWashing machine finished"),
            (["-H", "Content-Type: application/json", "-d", '{"text": "Disk 91% full on nas"}'],
             "Disk 91% full on nas"),
        ]:
            result = subprocess.run(["curl", "-sS", "-f", *args, url], capture_output=True, text=True)
            assert result.returncode == 0, (args, result.stderr)
            assert json.loads(result.stdout)["ok"] is True, result.stdout
            frame = messages(socket, 1)[0]
            assert frame["body"] == expected and frame["from"]["username"] == bot, frame
            print("curl", " ".join(args[:-1]) or "-d", "→", json.dumps(frame["body"]))

        # A photo with a caption, as curl -F sends a form: the file arrives as the message's attachment.
        photo = os.path.join(tempfile.mkdtemp(), "porch.png")
        png(photo)
        result = subprocess.run(["curl", "-sS", "-f", "-F", f"file=@{photo}", "-F", "text=Parcel on the porch", url],
                                capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        frame = messages(socket, 1)[0]
        files = frame.get("attachments") or []
        assert frame["body"] == "Parcel on the porch" and len(files) == 1, frame
        assert files[0]["contentType"] == "image/png" and files[0]["name"] == "porch.png", files
        assert files[0]["width"] == 40 and files[0]["height"] == 30, files
        print("curl -F file=@porch.png -F text=… →", json.dumps(frame["body"]), files[0]["contentType"])

        # Apprise's form:// sends the same as multipart/form-data, its file as `file01`.
        notifier = apprise.Apprise()
        assert notifier.add("form://" + url.split("://", 1)[1]), url
        assert notifier.notify(title="Camera", body="Motion in the garden", attach=photo,
                               notify_type=apprise.NotifyType.WARNING)
        frame = messages(socket, 1)[0]
        files = frame.get("attachments") or []
        assert frame["body"] == "⚠️ Camera\nMotion in the garden" and len(files) == 1, frame
        assert files[0]["contentType"] == "image/png", files
        print("apprise form:// with a photo →", json.dumps(frame["body"]), files[0]["name"])

        # Apprise, with its json:// URL for the same address.
        target = "json://" + url.split("://", 1)[1]
        notifier = apprise.Apprise()
        assert notifier.add(target), target
        assert notifier.notify(title="Backup", body="Nightly backup done", notify_type=apprise.NotifyType.SUCCESS)
        frame = messages(socket, 1)[0]
        assert frame["body"] == "✅ Backup\nNightly backup done", frame
        print("apprise json:// →", json.dumps(frame["body"]))
        socket.close()
    finally:
        server.terminate()
        server.wait()

    # Over HTTPS, with Apprise's jsons:// (verify=no for the test's self-signed certificate).
    directory = tempfile.mkdtemp()
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    server, base, url, bot, socket = run(binary, data, password, tls=(cert, key))
    try:
        notifier = apprise.Apprise()
        target = "jsons://" + url.split("://", 1)[1] + "?verify=no"
        assert notifier.add(target), target
        assert notifier.notify(title="Doorbell", body="Someone is at the door", notify_type=apprise.NotifyType.INFO)
        frame = messages(socket, 1)[0]
        assert frame["body"] == "ℹ️ Doorbell\nSomeone is at the door" and frame["from"]["username"] == bot, frame
        print("apprise jsons:// →", json.dumps(frame["body"]))
        socket.close()
    finally:
        server.terminate()
        server.wait()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
