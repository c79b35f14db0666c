"""HTTPS and WSS straight from `hearth serve --tls-cert --tls-key`, checked against the CA file.

Usage: tls_check.py URL CA_FILE USERNAME PASSWORD   (URL: https://127.0.0.1:PORT; the user exists)
Signs in for a Bearer token and for a cookie, checks the cookie's __Host- name and attributes,
opens a WSS connection each way and pings, and checks that plain HTTP on the port gets no page.
Prints each step, then OK.
"""

import json
import socket
import ssl
import sys
import urllib.error
import urllib.request

import websocket

url, ca_file, username, password = sys.argv[1:5]
context = ssl.create_default_context(cafile=ca_file)
host, port = url.removeprefix("https://").split(":")


def call(path, body=None, headers=None):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        return response.status, response.headers, json.loads(response.read() or b"{}")


status, _, body = call("/healthz")
assert status == 200 and body == {"status": "ok"}, (status, body)
print("healthz over HTTPS: 200")

_, _, body = call("/api/v1/login", {"username": username, "password": password, "deviceName": "tls bearer"})
token = body["token"]

_, headers, body = call("/api/v1/login", {"username": username, "password": password, "session": "cookie"},
                        {"Origin": url})
cookie = headers["Set-Cookie"]
attributes = [part.strip().lower() for part in cookie.split(";")]
assert cookie.startswith("__Host-hearth_session="), cookie
assert "secure" in attributes and "httponly" in attributes and "path=/" in attributes, cookie
assert not any(part.startswith("domain=") for part in attributes), cookie
session = cookie.split(";")[0]
print("session cookie:", "; ".join(part for part in cookie.split(";")[1:]).strip())

status, me_headers, body = call("/api/v1/me", headers={"Cookie": session})
assert status == 200 and body["user"]["username"] == username, body
print("cookie session works over HTTPS")
assert headers["Strict-Transport-Security"] == "max-age=31536000", headers
assert me_headers["Strict-Transport-Security"] == "max-age=31536000", me_headers
print("HSTS:", me_headers["Strict-Transport-Security"])


def ping(socket_, label):
    socket_.send(json.dumps({"type": "ping", "id": label}))
    while True:
        frame = json.loads(socket_.recv())
        if frame.get("type") == "pong":
            assert frame.get("id") == label, frame
            return


wss = url.replace("https://", "wss://") + "/api/v1/ws"
bearer = websocket.create_connection(wss, header=[f"Authorization: Bearer {token}"],
                                     sslopt={"ca_certs": ca_file}, timeout=30)
ping(bearer, "bearer")
bearer.close()
browser = websocket.create_connection(wss, header=[f"Cookie: {session}"], origin=url,
                                      sslopt={"ca_certs": ca_file}, timeout=30)
ping(browser, "cookie")
browser.close()
print("WSS with a Bearer token and with the cookie: pong")

try:
    foreign = websocket.create_connection(wss, header=[f"Cookie: {session}"], origin="https://evil.example",
                                          sslopt={"ca_certs": ca_file}, timeout=30)
    raise AssertionError("a WSS from another site's page was accepted")
except websocket.WebSocketBadStatusException as error:
    assert error.status_code == 403, error.status_code
print("WSS from another site's page: 403")

with socket.create_connection((host, int(port)), timeout=30) as plain:
    plain.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        answer = plain.recv(4096)
    except (ConnectionResetError, socket.timeout):
        answer = b""
    assert not answer.startswith(b"HTTP/1.1 200"), answer
print("plain HTTP on the TLS port: no page")

print("OK")
