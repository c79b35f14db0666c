"""The installable app in headless Chromium: manifest, service worker, offline start, push.

Usage: pwa.py HEARTH_BINARY DATA_DIR PASSWORD SCREENSHOT_DIR
The users mum and dad must exist. Starts `hearth serve` itself, because part of the test is the
server going away: a reload then shows the app from the service worker's cache, with the
message typed meanwhile still waiting in its outbox, and it goes once the server is back (on
the same port). Checks the manifest with CDP `Page.getAppManifest` and the installability
check, that the service worker controls the page, and delivers a push with CDP
`ServiceWorker.deliverPushMessage`: a notification appears, and its click opens the room.
Prints what it checked, then OK.
"""

import json
import os
import sys
import time
import urllib.request

import websocket
from chat import connection, send, sign_in, texts
from first_run import browser, by_testid
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from serve import free_port, start


class DevTools:
    """A second DevTools connection to the page, for what Selenium cannot do: listen to events."""

    def __init__(self, driver):
        address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
        with urllib.request.urlopen(f"http://{address}/json") as response:
            pages = [t for t in json.loads(response.read()) if t["type"] == "page"]
        self.socket = websocket.create_connection(pages[0]["webSocketDebuggerUrl"], timeout=30, suppress_origin=True)
        self.counter = 0
        self.events = []

    def call(self, method, **params):
        self.counter += 1
        self.socket.send(json.dumps({"id": self.counter, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.counter:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def event(self, method, where=lambda params: True, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            for message in self.events:
                if message.get("method") == method and where(message["params"]):
                    return message["params"]
            self.socket.settimeout(max(0.1, deadline - time.time()))
            try:
                self.events.append(json.loads(self.socket.recv()))
            except websocket.WebSocketTimeoutException:
                break
        raise AssertionError(f"no {method} event")


def click_notification(driver, base, tag):
    """Clicks the notification with `tag` as a person would: headless Chromium shows none to
    click, so a `notificationclick` event for it is dispatched inside the service worker itself
    (DevTools attached to the worker's target), to the worker's own listener."""
    address = driver.capabilities["goog:chromeOptions"]["debuggerAddress"]
    with urllib.request.urlopen(f"http://{address}/json/version") as response:
        endpoint = json.loads(response.read())["webSocketDebuggerUrl"]
    browser_socket = websocket.create_connection(endpoint, timeout=30, suppress_origin=True)
    counter = [0]

    def call(method, session=None, **params):
        counter[0] += 1
        message = {"id": counter[0], "method": method, "params": params}
        if session:
            message["sessionId"] = session
        browser_socket.send(json.dumps(message))
        while True:
            answer = json.loads(browser_socket.recv())
            if answer.get("id") == counter[0]:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})

    try:
        targets = call("Target.getTargets")["targetInfos"]
        worker = next(t for t in targets if t["type"] == "service_worker" and t["url"].startswith(base))
        session = call("Target.attachToTarget", targetId=worker["targetId"], flatten=True)["sessionId"]
        result = call("Runtime.evaluate", session, awaitPromise=True, returnByValue=True, expression=f"""
            self.registration.getNotifications({{tag: {json.dumps(tag)}}}).then(([notification]) => {{
              if (!notification) return 'no notification';
              self.dispatchEvent(new NotificationEvent('notificationclick', {{notification}}));
              return 'clicked';
            }})""")
        assert result["result"].get("value") == "clicked", result
    finally:
        browser_socket.close()


def wait(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout).until(condition)


def notifications(driver):
    return driver.execute_async_script("""
        const done = arguments[arguments.length - 1];
        navigator.serviceWorker.ready.then((r) => r.getNotifications())
          .then((list) => done(list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, icon: n.icon }))));
    """)


def main(binary, data, password, shots):
    os.makedirs(shots, exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server, _ = start(binary, data, port)
    driver = browser()
    try:
        sign_in(driver, base, "mum", password)
        wait(driver, lambda d: connection(d) == "online")
        # The new-chat box's placeholder fits the box, on a laptop and on a phone.
        for width, height in ((1280, 900), (390, 844), (360, 740)):
            driver.set_window_size(width, height)
            room, needed = driver.execute_script("""
                const input = document.getElementById('new-chat-username');
                const style = getComputedStyle(input);
                const context = document.createElement('canvas').getContext('2d');
                context.font = style.font;
                const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
                return [room, context.measureText(input.placeholder).width];
            """)
            assert needed <= room, (width, needed, room)
        driver.set_window_size(1280, 900)

        # The manifest: valid, with the icons an install needs, and nothing stops installing.
        manifest = driver.execute_cdp_cmd("Page.getAppManifest", {})
        assert manifest.get("errors") == [], manifest.get("errors")
        parsed = json.loads(manifest["data"])
        assert parsed["display"] == "standalone" and parsed["start_url"] == "/", parsed
        sizes = {(icon["sizes"], icon.get("purpose", "any")) for icon in parsed["icons"]}
        assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= sizes, sizes
        for icon in parsed["icons"]:
            with urllib.request.urlopen(base + icon["src"]) as response:
                assert response.headers["Content-Type"] == "image/png", icon
        installability = driver.execute_cdp_cmd("Page.getInstallabilityErrors", {})
        assert installability["installabilityErrors"] == [], installability
        print("manifest: no errors, installable, icons", sorted(sizes))

        # The service worker controls the page; its cache holds the shell and nothing else.
        wait(driver, lambda d: d.execute_script("return Boolean(navigator.serviceWorker.controller)"))
        cached = driver.execute_async_script("""
            const done = arguments[arguments.length - 1];
            (async () => {
              const urls = [];
              for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
              }
              return urls;
            })().then(done);
        """)
        assert "/" in cached and "/app.js" in cached and "/sw.js" not in cached, cached
        assert not any(path.startswith("/api/") for path in cached), cached
        print(f"service worker controls the page; cache: {len(cached)} shell files, no /api/")

        # The notification choices in the settings reach the server: less in the preview, and
        # quiet hours in this browser's time zone.
        driver.find_element(By.ID, "open-settings").click()
        Select(by_testid(driver, "push-preview")).select_by_value("sender")
        by_testid(driver, "quiet-on").click()
        wait(driver, lambda d: d.find_element(By.ID, "push-result").text == "Saved.")
        mum = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/login", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": "mum", "password": password}).encode())).read())["token"]
        deadline = time.time() + 10
        while True:
            with urllib.request.urlopen(urllib.request.Request(
                    base + "/api/v1/me/push", headers={"Authorization": f"Bearer {mum}"})) as response:
                prefs = json.loads(response.read())
            if prefs["quietHours"] or time.time() > deadline:
                break
            time.sleep(0.2)
        assert prefs["preview"] == "sender" and prefs["quietHours"] == {"from": "22:00", "to": "07:00", "mode": "silent"}, prefs
        assert prefs["timeZone"], prefs
        driver.find_element(By.ID, "close-settings").click()
        print("settings: preview and quiet hours saved", prefs)

        # A push while the page is in the background: a notification, one per room, whose click
        # opens the room.
        token = json.loads(urllib.request.urlopen(urllib.request.Request(
            base + "/api/v1/login", method="POST", headers={"Content-Type": "application/json"},
            data=json.dumps({"username": "dad", "password": password}).encode())).read())["token"]
        request = urllib.request.Request(
            base + "/api/v1/rooms", method="POST", headers={"Content-Type": "application/json",
                                                             "Authorization": f"Bearer {token}"},
            data=json.dumps({"members": ["mum"], "direct": True}).encode())
        room = json.loads(urllib.request.urlopen(request).read())["room"]["id"]
        wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, f'[data-room-id="{room}"]'))
        driver.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": ["notifications"]})
        tools = DevTools(driver)
        tools.call("ServiceWorker.enable")
        registration = tools.event(
            "ServiceWorker.workerRegistrationUpdated",
            lambda params: any(r["scopeURL"] == base + "/" for r in params["registrations"]))
        registration_id = next(r["registrationId"] for r in registration["registrations"] if r["scopeURL"] == base + "/")
        payload = {"kind": "message", "room": room, "seq": 1, "title": "dad", "body": "Are you coming?",
                   "tag": f"room-{room}", "url": f"/#room={room}", "silent": False,
                   "unread": {str(room): 1}, "badge": 1, "icon": "/api/v1/avatars/dads-face"}
        tools.call("ServiceWorker.deliverPushMessage", origin=base, registrationId=registration_id,
                   data=json.dumps(payload))
        shown = wait(driver, lambda d: notifications(d) or None)
        # The sender's avatar is the notification's icon.
        icon = base + "/api/v1/avatars/dads-face"
        assert shown == [{"title": "dad", "body": "Are you coming?", "tag": f"room-{room}", "icon": icon}], shown
        # A second push for the same room replaces the first: still one notification.
        tools.call("ServiceWorker.deliverPushMessage", origin=base, registrationId=registration_id,
                   data=json.dumps({**payload, "body": "Hello?", "unread": {str(room): 2}, "badge": 2}))
        wait(driver, lambda d: notifications(d) == [
            {"title": "dad", "body": "Hello?", "tag": f"room-{room}", "icon": icon}])
        assert driver.execute_script("return location.hash") == "", "a room was open already"
        click_notification(driver, base, f"room-{room}")
        wait(driver, lambda d: d.execute_script("return location.hash") == f"#room={room}")
        wait(driver, lambda d: d.find_element(By.ID, "chat-title").text == "dad")
        assert notifications(driver) == [], "the clicked notification is still there"
        print("push: one notification per room, replaced by the next; its click opened the room")

        # The server goes away; a message typed now waits; a reload shows the app from the cache
        # with that message still waiting; the server comes back and it goes, once.
        dad_socket = websocket.create_connection(
            base.replace("http", "ws", 1) + "/api/v1/ws", header=[f"Authorization: Bearer {token}"], timeout=10)
        wait(driver, lambda d: d.find_element(By.ID, "chat-members").text == "online")
        driver.set_window_size(390, 844)
        server.terminate()
        server.wait(timeout=30)
        dad_socket.close()
        wait(driver, lambda d: d.find_element(By.ID, "chat-connection").is_displayed())
        # On a phone the chat's header says the connection is down (the sidebar that says so is
        # hidden), and nobody shows as online while we cannot know.
        state = by_testid(driver, "chat-connection").text
        assert state in ("reconnecting…", "offline…"), state
        assert driver.find_element(By.ID, "chat-members").text == "", driver.find_element(By.ID, "chat-members").text
        driver.save_screenshot(os.path.join(shots, "server-down-phone.png"))
        send(driver, "typed while the server was down")
        driver.refresh()
        wait(driver, lambda d: d.find_element(By.ID, "signed-in").is_displayed())
        wait(driver, lambda d: "typed while the server was down" in texts(d))
        assert "Cannot reach" not in driver.page_source
        driver.save_screenshot(os.path.join(shots, "offline-reload.png"))
        print("offline reload: the app and its outbox, from the service worker's cache")
        server, _ = start(binary, data, port)
        wait(driver, lambda d: not d.find_element(By.ID, "chat-connection").is_displayed(), timeout=60)
        driver.set_window_size(1280, 900)
        wait(driver, lambda d: connection(d) == "online")
        with urllib.request.urlopen(urllib.request.Request(
                base + f"/api/v1/rooms/{room}/messages", headers={"Authorization": f"Bearer {token}"})) as response:
            bodies = [m["body"] for m in json.loads(response.read())["messages"]]
        deadline = time.time() + 30
        while bodies.count("typed while the server was down") != 1 and time.time() < deadline:
            time.sleep(0.5)
            with urllib.request.urlopen(urllib.request.Request(
                    base + f"/api/v1/rooms/{room}/messages", headers={"Authorization": f"Bearer {token}"})) as response:
                bodies = [m["body"] for m in json.loads(response.read())["messages"]]
        assert bodies.count("typed while the server was down") == 1, bodies
        print("server back: the waiting message delivered once")
        print("OK")
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
