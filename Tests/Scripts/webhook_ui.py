"""Incoming webhooks in a real browser: dad, who made the group, adds a webhook in its settings
and gets its address once; a program posts to it (urllib here, as curl would); the message shows
in mum's browser with the webhook's name and a "bot" badge; dad revokes it and the address stops
working. Mum, a member but not the group's admin, sees the list without the controls.

Usage: webhook_ui.py BASE_URL PASSWORD SCREENSHOT_DIR
The server has mum and dad with PASSWORD. Prints OK.
"""

import os
import sys
import urllib.error
import urllib.request

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
        print("OK")
    finally:
        dad.quit()
        mum.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
