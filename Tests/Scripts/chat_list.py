"""The chat list in a real browser: a chat pinned from its ⋯ menu goes to the top with a 📌, an
archived one leaves the list for "Show archived chats", a muted one says until when; a second
device of the same person shows the pin at once.

Usage: chat_list.py BASE_URL PASSWORD SCREENSHOT_DIR
The server has mum, dad and gran with PASSWORD. Prints OK.
"""

import os
import sys

from chat import sign_in
from conversation import api, login, wait
from every_page import Socket
from first_run import browser, by_testid
from selenium.webdriver.common.by import By


def titles(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#room-list [data-testid=room-item] .room-name')]"
        ".map(n => n.textContent)")


def open_options(driver, base, room):
    driver.get("about:blank")
    driver.get(f"{base}/#room={room}")
    driver.find_element(By.CSS_SELECTOR, "#chat-options summary").click()
    by_testid(driver, "option-pin")


def main(base, password, shots):
    os.makedirs(shots, exist_ok=True)
    mum = login(base, "mum", password)
    family = api(base, "POST", "/rooms", mum, {"name": "Family", "members": ["dad", "gran"]})["room"]["id"]
    dad_chat = api(base, "POST", "/rooms", mum, {"members": ["dad"], "direct": True})["room"]["id"]
    gran_chat = api(base, "POST", "/rooms", mum, {"members": ["gran"], "direct": True})["room"]["id"]
    socket = Socket(base, mum)
    try:
        for room, text in ((family, "Sunday lunch?"), (gran_chat, "Hi gran"), (dad_chat, "Milk please")):
            socket.send(room, text)
    finally:
        socket.close()

    phone, laptop = browser(), browser()
    try:
        sign_in(phone, base, "mum", password)
        sign_in(laptop, base, "mum", password)
        wait(phone, lambda d: titles(d)[:1] and titles(d)[0].startswith("dad"))

        # Pin the family chat: first in the list, here and on the laptop at once.
        open_options(phone, base, family)
        by_testid(phone, "option-pin").click()
        wait(phone, lambda d: titles(d)[0].startswith("Family") and "📌" in titles(d)[0])
        wait(laptop, lambda d: titles(d)[:1] and titles(d)[0].startswith("Family"))

        # Archive gran's chat: gone from the list, back under the toggle.
        open_options(phone, base, gran_chat)
        by_testid(phone, "option-archive").click()
        wait(phone, lambda d: not any(t.startswith("gran") for t in titles(d)))
        toggle = by_testid(phone, "archived-toggle")
        assert "(1)" in toggle.text, toggle.text
        toggle.click()
        wait(phone, lambda d: any(t.startswith("gran") for t in titles(d)))

        # Mute dad's chat for 8 hours: the menu says until when.
        open_options(phone, base, dad_chat)
        phone.find_element(By.CSS_SELECTOR, '[data-mute="8h"]').click()
        open_options(phone, base, dad_chat)
        wait(phone, lambda d: d.find_element(By.ID, "option-mute-state").text.startswith("Muted until"))
        phone.save_screenshot(os.path.join(shots, "chat-list-options.png"))
        print("OK")
    finally:
        phone.quit()
        laptop.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
