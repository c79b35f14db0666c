"""Profiles in a real browser: mum gives her name and a picture in the settings (a 300 × 200
PNG, which the page crops to a 256 × 256 square before it uploads it); dad, in his own browser,
sees "Mum" and her face in his chat list, the chat's header (with @mum beneath), her messages and
the notification of a new one; the admin panel lists her with both.

Usage: profiles.py BASE_URL PASSWORD SCREENSHOT_DIR
The server has mum (an admin) and dad with PASSWORD. Prints OK.
"""

import os
import struct
import sys
import tempfile
import zlib

from chat import send, sign_in
from conversation import api, login, wait
from first_run import browser, by_testid
from selenium.webdriver.common.by import By


def png(width, height):
    """A PNG of two colours side by side: the left third red, the rest blue."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    row = b"".join(b"\xd0\x30\x30" if x < width // 3 else b"\x30\x50\xd0" for x in range(width))
    raw = b"".join(b"\x00" + row for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


def loaded_image(driver, selector):
    """The natural width of the first loaded image matching `selector`, or 0."""
    return driver.execute_script(
        "const i = document.querySelector(arguments[0]); return i && i.complete ? i.naturalWidth : 0;", selector)


def main(base, password, shots):
    os.makedirs(shots, exist_ok=True)
    picture = os.path.join(tempfile.mkdtemp(), "me.png")
    with open(picture, "wb") as handle:
        handle.write(png(300, 200))
    mum_token = login(base, "mum", password)
    room = api(base, "POST", "/rooms", mum_token, {"members": ["dad"], "direct": True})["room"]["id"]

    mum, dad = browser(), browser()
    try:
        sign_in(mum, base, "mum", password)
        sign_in(dad, base, "dad", password)
        wait(dad, lambda d: d.find_elements(By.CSS_SELECTOR, "#room-list .room-name"))

        # Mum: her name and picture, from the settings.
        mum.find_element(By.ID, "open-settings").click()
        name = by_testid(mum, "profile-name")
        name.send_keys("Mum")
        by_testid(mum, "profile-save").click()
        wait(mum, lambda d: "saved" in d.find_element(By.ID, "profile-result").text)
        mum.find_element(By.ID, "profile-photo").send_keys(picture)
        wait(mum, lambda d: "picture is saved" in d.find_element(By.ID, "profile-result").text)
        wait(mum, lambda d: loaded_image(d, "#profile-avatar img") > 0)
        assert mum.find_element(By.ID, "me-username").text == "Mum"
        mum.save_screenshot(os.path.join(shots, "profile-settings.png"))
        me = api(base, "GET", "/me", mum_token)["user"]
        assert me["displayName"] == "Mum" and me["avatar"], me
        # The page cropped and scaled it: the server has a 256 × 256 JPEG.
        size = mum.execute_async_script(
            "const done = arguments[1]; const i = new Image();"
            "i.onload = () => done([i.naturalWidth, i.naturalHeight]); i.onerror = () => done(null);"
            "i.src = '/api/v1/avatars/' + arguments[0];", me["avatar"])
        assert size == [256, 256], size

        # Dad, without reloading: "Mum" and her face in the list, live.
        wait(dad, lambda d: d.find_element(By.CSS_SELECTOR, "#room-list .room-name").text.startswith("Mum"))
        wait(dad, lambda d: loaded_image(d, "#room-list .avatar img") == 256)
        dad.find_element(By.CSS_SELECTOR, "#room-list [data-testid=room-item]").click()
        wait(dad, lambda d: d.find_element(By.ID, "chat-title").text == "Mum")
        wait(dad, lambda d: "@mum" in d.find_element(By.ID, "chat-members").text)
        wait(dad, lambda d: loaded_image(d, "#chat-avatar img") == 256)
        mum.find_element(By.ID, "close-settings").click()
        mum.get("about:blank")
        mum.get(f"{base}/#room={room}")
        wait(mum, lambda d: d.find_element(By.ID, "chat-title").text == "dad")
        send(mum, "Tea is ready")
        wait(dad, lambda d: any(b.text.startswith("Tea is ready")
                                for b in d.find_elements(By.CSS_SELECTOR, "[data-testid=message]")))
        dad.save_screenshot(os.path.join(shots, "profile-dad.png"))

        # The admin panel: her face, her name and her username.
        # Signed in to the chat, she gives her password again (the panel's step-up).
        mum.get(f"{base}/admin")
        mum.find_element(By.ID, "password").send_keys(password)
        mum.find_element(By.CSS_SELECTOR, 'form[action="/admin/login"] button[type=submit]').click()
        wait(mum, lambda d: "/admin" in d.current_url and not d.find_elements(By.ID, "password"))
        mum.get(f"{base}/admin/users")
        wait(mum, lambda d: loaded_image(d, "table img.avatar") == 256)
        cells = [c.text for c in mum.find_elements(By.CSS_SELECTOR, "td[data-label=Username]")]
        assert ["mum", "Mum"] in [c.split() for c in cells] and "dad" in cells, cells
        mum.save_screenshot(os.path.join(shots, "profile-admin.png"))
        print("OK")
    finally:
        mum.quit()
        dad.quit()


if __name__ == "__main__":
    main(*sys.argv[1:4])
