"""Two people chat in real browsers: A (mum) and B (dad).

Usage: chat.py BASE_URL PASSWORD IMAGE SCREENSHOT_DIR DATA_DIR
Covers: a direct chat both ways with ticks up to "read", typing, B's connection cut while A sends
five (B shows all five once, in order, after reconnecting), a message typed offline and a reload
(delivered once), and a photo shown inline. Prints timings for the closing report, then OK.
"""

import os
import sqlite3
import sys
import time

from first_run import browser, by_testid, signed_in_as
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

OFFLINE = {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
ONLINE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}


def wait(driver, condition, timeout=30):
    return WebDriverWait(driver, timeout).until(condition)


def sign_in(driver, base, username, password):
    driver.get(base)
    by_testid(driver, "login-username").send_keys(username)
    by_testid(driver, "login-password").send_keys(password)
    by_testid(driver, "login-submit").click()
    signed_in_as(driver, username)


def send(driver, text):
    composer = by_testid(driver, "composer")
    composer.send_keys(text)
    by_testid(driver, "send").click()


def texts(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('[data-testid=message] .body')].map(n => n.textContent)")


def status_of(driver, text):
    return driver.execute_script(
        "const m = [...document.querySelectorAll('[data-testid=message]')]"
        ".filter(n => n.querySelector('.body')?.textContent === arguments[0]).at(-1);"
        "return m ? m.dataset.status : null", text)


def open_room(driver):
    """Clicks the first chat in the list (the list is redrawn as presence changes: retry)."""
    def click(d):
        try:
            d.find_element(By.CSS_SELECTOR, '[data-testid="room-item"]').click()
            return True
        except (StaleElementReferenceException, NoSuchElementException):
            return False
    wait(driver, click)


def set_network(driver, conditions):
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", conditions)


def connection(driver):
    return by_testid(driver, "connection-status").text


def seed(database, room, username, count):
    db = sqlite3.connect(database, timeout=30)
    sender = db.execute("SELECT id FROM users WHERE username = ?", (username,)).fetchone()[0]
    # The last seq handed out, as the server reckons it (Store.lastSeq): the highest stored, or
    # the floor that deletions left in counters, over messages and their events.
    seq = db.execute("SELECT max((SELECT value FROM counters WHERE name = 'seq'), "
                     "coalesce((SELECT max(seq) FROM messages), 0), "
                     "coalesce((SELECT max(seq) FROM message_events), 0))").fetchone()[0]
    now = int(time.time() * 1000)
    db.executemany(
        "INSERT INTO messages (seq, room_id, sender_id, client_id, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        ((seq + i + 1, room, sender, f"bulk-{i}", f"bulk message {i}", now + i) for i in range(count)))
    db.commit()
    db.close()


def main(base, password, image, shots, data):
    database = os.path.join(data, "hearth.sqlite")
    os.makedirs(shots, exist_ok=True)
    a, b = browser(), browser()
    try:
        sign_in(a, base, "mum", password)
        sign_in(b, base, "dad", password)
        wait(a, lambda d: connection(d) == "online")

        # A starts a direct chat with B and says hello.
        by_testid(a, "new-chat-username").send_keys("dad")
        by_testid(a, "new-chat-submit").click()
        send(a, "hello dad")
        wait(a, lambda d: status_of(d, "hello dad") in ("sent", "delivered", "read"))

        # The chat appears in B's list; B opens it and reads: A's ticks reach "read".
        open_room(b)
        wait(b, lambda d: "hello dad" in texts(d))
        wait(a, lambda d: status_of(d, "hello dad") == "read")

        # B types (A sees it), then answers.
        by_testid(b, "composer").send_keys("hi")
        wait(a, EC.text_to_be_present_in_element((By.ID, "typing"), "dad is typing"))
        by_testid(b, "composer").clear()
        send(b, "hi mum")
        wait(a, lambda d: "hi mum" in texts(d))
        wait(b, lambda d: status_of(d, "hi mum") == "read")
        a.save_screenshot(os.path.join(shots, "chat-desktop-a.png"))

        # B's connection is cut; A sends five; B comes back and shows all five once, in order.
        set_network(b, OFFLINE)
        b.execute_script("window.hearthDebug.drop()")
        wait(b, lambda d: connection(d) in ("reconnecting", "offline"))
        missed = [f"missed {i}" for i in range(5)]
        for text in missed:
            send(a, text)
        wait(a, lambda d: all(status_of(d, text) in ("sent", "delivered", "read") for text in missed))
        set_network(b, ONLINE)
        wait(b, lambda d: connection(d) == "online", timeout=60)
        wait(b, lambda d: all(text in texts(d) for text in missed))
        shown = [text for text in texts(b) if text.startswith("missed")]
        assert shown == missed, f"B shows {shown}"

        # A message typed while offline survives a reload and is delivered once.
        set_network(b, OFFLINE)
        b.execute_script("window.hearthDebug.drop()")
        wait(b, lambda d: connection(d) in ("reconnecting", "offline"))
        send(b, "typed offline")
        assert status_of(b, "typed offline") == "pending", status_of(b, "typed offline")
        set_network(b, ONLINE)
        b.refresh()
        signed_in_as(b, "dad")
        wait(a, lambda d: "typed offline" in texts(d), timeout=60)
        wait(b, lambda d: status_of(d, "typed offline") in ("sent", "delivered", "read"), timeout=60)
        time.sleep(2)
        assert texts(a).count("typed offline") == 1, texts(a)
        assert texts(b).count("typed offline") == 1, texts(b)

        # B sends a photo: it shows inline for A.
        b.find_element(By.ID, "attach").send_keys(image)
        wait(a, lambda d: d.execute_script(
            "const img = document.querySelector('[data-testid=message] img');"
            "return img !== null && img.complete && img.naturalWidth > 0"), timeout=60)
        b.save_screenshot(os.path.join(shots, "chat-desktop-b.png"))

        # A opens it full screen: the viewer shows it, with a way to download it, and closes.
        a.find_element(By.CSS_SELECTOR, '[data-testid=message] [data-action=photo]').click()
        viewer = by_testid(a, "photo-viewer")
        wait(a, lambda d: d.execute_script(
            "const img = document.getElementById('viewer-image');"
            "return img.complete && img.naturalWidth > 0"))
        assert a.find_element(By.ID, "viewer-position").text == "1 of 1"
        assert a.find_element(By.ID, "viewer-download").get_attribute("download")
        a.save_screenshot(os.path.join(shots, "photo-viewer-desktop.png"))
        a.find_element(By.ID, "viewer-close").click()
        wait(a, lambda d: not viewer.is_displayed())

        # Timings for the report: 1,000 more messages in the room (written straight into the
        # database: the server's send limit would take ten minutes), then a fresh load of A's page.
        room = a.execute_script("return window.hearthDebug.chat.current")
        seed(database, room, "mum", 1000)
        # The page reopens the room it showed last (#room=…): time both from the start of navigation.
        a.get("about:blank")
        a.get(f"{base}/#room={room}")
        wait(a, lambda d: "bulk message 999" in texts(d))
        marks = a.execute_script(
            "return ['hearth-rooms-shown', 'hearth-room-shown'].map(n => performance.getEntriesByName(n)[0]?.startTime)")
        print(f"timing: chat list shown {marks[0]:.0f} ms, the 1,000-message room shown {marks[1]:.0f} ms after navigation")
        # Scrolling up pages in older history, with day separators kept.
        shown = len(texts(a))
        a.execute_script("document.getElementById('messages').scrollTop = 0")
        wait(a, lambda d: len(texts(d)) > shown)
        a.save_screenshot(os.path.join(shots, "chat-desktop-a-history.png"))
        # What a first visit downloads, in a browser with an empty cache.
        fresh = browser()
        try:
            fresh.get(base)
            by_testid(fresh, "login-username")
            sizes = fresh.execute_script(
                "const all = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'))"
                ".filter(e => !e.name.includes('/api/'));"
                "return [all.length, all.reduce((s, e) => s + e.transferSize, 0), all.reduce((s, e) => s + e.decodedBodySize, 0)]")
            print(f"first load: {sizes[0]} files of Public/, {sizes[1]} bytes transferred ({sizes[2]} bytes of content)")
        finally:
            fresh.quit()

        a.set_window_size(390, 844)
        a.get(base)
        wait(a, EC.visibility_of_element_located((By.CSS_SELECTOR, '[data-testid="room-item"]')))
        a.save_screenshot(os.path.join(shots, "chat-phone-list.png"))
        open_room(a)
        wait(a, lambda d: "bulk message 999" in texts(d))
        a.save_screenshot(os.path.join(shots, "chat-phone-room.png"))
        print("OK")
    except Exception:
        # What each browser showed when it went wrong, to look at.
        for name, driver in (("a", a), ("b", b)):
            driver.save_screenshot(os.path.join(shots, f"failure-{name}.png"))
            print(name, driver.current_url, texts(driver)[-6:], connection(driver))
        raise
    finally:
        a.quit()
        b.quit()


if __name__ == "__main__":
    main(*sys.argv[1:6])
