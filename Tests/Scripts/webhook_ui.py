"""Incoming webhooks in a real browser: dad, who made the group, adds a webhook in its settings
and gets its address once; a program posts to it (urllib here, as curl would); the message shows
in mum's browser with the webhook's name and a "bot" badge; dad revokes it and the address stops
working. Mum, a member but not the group's admin, sees the list without the controls.

Outgoing: dad's address on 127.0.0.1 is refused with the reason (the server allows only
127.0.0.2, HEARTH_WEBHOOK_ALLOW_PRIVATE); on 127.0.0.2 it is added, its signing secret shown
once; mum's next message reaches the receiver there, and the settings say it was delivered.
Mum does not see the outgoing webhooks at all.

Usage: webhook_ui.py BASE_URL PASSWORD SCREENSHOT_DIR
The server has mum and dad with PASSWORD. Prints OK.
"""

import json
import os
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chat import sign_in
from conversation import api, login, wait
from first_run import browser, by_testid
from selenium.webdriver.common.by import By


def post(url, text):
    request = urllib.request.Request(url, method="POST", data=text.encode())
    request.add_header("Content-Type", "text/plain")
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class Receiver(BaseHTTPRequestHandler):
    got = []

    def do_POST(self):
        Receiver.got.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def main(base, password, shots):
    os.makedirs(shots, exist_ok=True)
    dad_token = login(base, "dad", password)
    room = api(base, "POST", "/rooms", dad_token, {"name": "Home", "members": ["mum"]})["room"]["id"]
    dad, mum = browser(), browser()
    try:
        for driver, name in ((dad, "dad"), (mum, "mum")):
            sign_in(driver, base, name, password)
            driver.get("about:blank")
            driver.get(f"{base}/#room={room}")
            wait(driver, lambda d: d.find_element(By.ID, "chat-title").text == "Home")

        by_testid(dad, "group-settings").click()
        wait(dad, lambda d: d.find_element(By.ID, "webhook-none").is_displayed())
        by_testid(dad, "webhook-name").send_keys("Doorbell")
        by_testid(dad, "webhook-add").click()
        url = wait(dad, lambda d: by_testid(d, "webhook-url").get_attribute("value"))
        assert "/api/v1/hooks/" in url, url
        wait(dad, lambda d: any("Doorbell" in i.text for i in d.find_elements(By.CSS_SELECTOR, "[data-testid=webhook-item]")))
        dad.save_screenshot(os.path.join(shots, "webhook-added.png"))
        print("dad added a webhook; its address was shown once")

        assert post(url, "Someone is at the door") == 200
        wait(mum, lambda d: any("Someone is at the door" in m.text
                                for m in d.find_elements(By.CSS_SELECTOR, "[data-testid=message]")))
        bubble = [m for m in mum.find_elements(By.CSS_SELECTOR, "[data-testid=message]")
                  if "Someone is at the door" in m.text][0]
        sender = bubble.find_element(By.CSS_SELECTOR, ".sender").text
        assert "Doorbell" in sender and "BOT" in sender.upper(), sender
        mum.save_screenshot(os.path.join(shots, "webhook-message.png"))
        print("the doorbell's message reached mum as", repr(sender))

        # Mum sees the list, not the controls.
        by_testid(mum, "group-settings").click()
        wait(mum, lambda d: d.find_elements(By.CSS_SELECTOR, "[data-testid=webhook-item]"))
        assert not mum.find_element(By.ID, "webhook-add").is_displayed()
        assert not mum.find_elements(By.CSS_SELECTOR, "[data-testid=webhook-revoke]")

        # Dad revokes it: the address stops working.
        dad.execute_script("window.confirm = () => true")
        by_testid(dad, "webhook-revoke").click()
        wait(dad, lambda d: "revoked" in d.find_element(By.ID, "webhook-result").text)
        assert post(url, "still there?") == 404
        print("revoked: the address answers 404")

        # Outgoing: refused on 127.0.0.1 with the reason, added on 127.0.0.2.
        receiver = ThreadingHTTPServer(("127.0.0.2", 0), Receiver)
        threading.Thread(target=receiver.serve_forever, daemon=True).start()
        port = receiver.server_port
        wait(dad, lambda d: d.find_element(By.ID, "outgoing-none").is_displayed())
        by_testid(dad, "outgoing-name").send_keys("Lights")
        by_testid(dad, "outgoing-url").send_keys(f"http://127.0.0.1:{port}/hearth")
        by_testid(dad, "outgoing-add").click()
        refusal = wait(dad, lambda d: "private address" in by_testid(d, "outgoing-result").text
                       and by_testid(d, "outgoing-result").text)
        print("refused:", refusal)
        url = by_testid(dad, "outgoing-url")
        url.clear()
        url.send_keys(f"http://127.0.0.2:{port}/hearth")
        by_testid(dad, "outgoing-add").click()
        secret = wait(dad, lambda d: by_testid(d, "outgoing-secret").get_attribute("value"))
        assert secret.startswith("whsec_"), secret
        dad.save_screenshot(os.path.join(shots, "outgoing-added.png"))
        print("dad added an outgoing webhook; its secret was shown once")

        # Mum, not the group's admin, sees no outgoing webhooks.
        assert not mum.find_element(By.ID, "group-outgoing").is_displayed()
        mum.find_element(By.ID, "close-group").click()
        composer = by_testid(mum, "composer")
        composer.send_keys("Lights off please")
        by_testid(mum, "send").click()
        wait(dad, lambda d: Receiver.got, 20)
        assert Receiver.got[0]["message"]["body"] == "Lights off please", Receiver.got
        # Reopened, the settings say how the last delivery went.
        dad.find_element(By.ID, "close-group").click()
        by_testid(dad, "group-settings").click()
        state = wait(dad, lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, "[data-testid=outgoing-state]")
                                     if "delivered" in e.text])
        print("mum's message reached the receiver; dad's settings say:", state[0])
        receiver.shutdown()
        print("OK")
    finally:
        dad.quit()
        mum.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
