"""A bot written with websocket-client, as anyone could write one: `hearth bot add` gives it a
token; added to a group like a person, it answers `/ping` with `pong`. It cannot sign in with a
password, sees only its rooms, and `hearth bot token` replaces its token (the old one stops).

Usage: bot.py HEARTH_BINARY DATA_DIR PASSWORD
DATA_DIR holds mum and dad with PASSWORD. Prints OK.
"""

import json
import re
import subprocess
import sys
import threading

import websocket
from serve import call, start


def token_from(output):
    return re.search(r"^([A-Za-z0-9_-]{40,})$", output, re.M).group(1)


def run_bot(base, token, ready, stop):
    """The bot: answers every message that starts with /ping in any of its rooms."""
    socket = websocket.create_connection(base.replace("http", "ws") + "/api/v1/ws",
                                         header=[f"Authorization: Bearer {token}"], timeout=1)
    ready.set()
    count = 0
    while not stop.is_set():
        try:
            frame = json.loads(socket.recv())
        except websocket.WebSocketTimeoutException:
            continue
        if frame.get("type") == "message" and frame.get("body", "").startswith("/ping"):
            count += 1
            socket.send(json.dumps({"type": "send", "id": f"pong-{count}", "room": frame["room"], "body": "pong"}))
    socket.close()


def main(binary, data, password):
    made = subprocess.run([binary, "bot", "add", "pingbot", "--display-name", "Ping bot", "--data", data],
                          capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    token = token_from(made.stdout)
    server, base = start(binary, data)
    try:
        status, body = call(base, "POST", "/login", {"username": "pingbot", "password": "a long family password"})
        assert status == 401, (status, body)
        status, body = call(base, "POST", "/login", {"username": "mum", "password": password})
        mum = body["token"]
        _, body = call(base, "POST", "/rooms", {"name": "Home", "members": ["dad", "pingbot"]}, mum)
        home = body["room"]["id"]
        call(base, "POST", "/rooms", {"name": "Grown-ups", "members": ["dad"]}, mum)
        status, body = call(base, "GET", "/rooms", token=token)
        assert status == 200 and [room["name"] for room in body["rooms"]] == ["Home"], body
        member = [m for m in body["rooms"][0]["members"] if m["username"] == "pingbot"][0]
        assert member.get("bot") is True and member["displayName"] == "Ping bot", member
        print("the bot sees only its room; it cannot sign in with a password (401)")

        ready, stop = threading.Event(), threading.Event()
        thread = threading.Thread(target=run_bot, args=(base, token, ready, stop), daemon=True)
        thread.start()
        assert ready.wait(10)
        socket = websocket.create_connection(base.replace("http", "ws") + "/api/v1/ws",
                                             header=[f"Authorization: Bearer {mum}"], timeout=20)
        socket.send(json.dumps({"type": "send", "id": "p1", "room": home, "body": "/ping"}))
        while True:
            frame = json.loads(socket.recv())
            if frame.get("type") == "message" and frame["from"]["username"] == "pingbot":
                break
        assert frame["body"] == "pong" and frame["room"] == home, frame
        print("mum: /ping → pingbot: pong")
        socket.close()
        stop.set()
        thread.join(5)

        renewed = subprocess.run([binary, "bot", "token", "pingbot", "--data", data], capture_output=True, text=True)
        assert renewed.returncode == 0, renewed.stderr
        new = token_from(renewed.stdout)
        assert call(base, "GET", "/rooms", token=token)[0] == 401
        assert call(base, "GET", "/rooms", token=new)[0] == 200
        print("a new token: the old one gets 401, the new one works")
        listed = subprocess.run([binary, "bot", "list", "--data", data], capture_output=True, text=True).stdout
        assert "pingbot" in listed and "Ping bot" in listed, listed
    finally:
        server.terminate()
        server.wait()
    print("OK")


if __name__ == "__main__":
    main(*sys.argv[1:4])
